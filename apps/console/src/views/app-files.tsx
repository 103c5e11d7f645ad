import { useEffect, useState } from "preact/hooks";
import { api, ok } from "../api/client.js";
import type { components } from "../api/schema.js";
import { Notice } from "../ui/notice.js";
import { download } from "./apps.js";

type FileEntry = components["schemas"]["FileEntry"];

const size = (bytes: number) =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 ** 2
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

const fetchFile = (app: string, name: string) =>
  ok(api.GET("/{app}/files/{name}", { params: { path: { app, name } }, parseAs: "blob" })) as Promise<Blob>;

/** An app's user files, with a preview of images (fetched with the token, shown from memory). */
export function AppFiles(props: { app: string }) {
  const { app } = props;
  const [files, setFiles] = useState<FileEntry[]>();
  const [error, setError] = useState<unknown>();
  const [preview, setPreview] = useState<{ name: string; url: string }>();

  useEffect(() => {
    ok(api.GET("/{app}/files", { params: { path: { app } } })).then(setFiles, setError);
  }, [app]);
  useEffect(() => () => preview && URL.revokeObjectURL(preview.url), [preview]);

  return (
    <>
      <h2>Files</h2>
      <Notice error={error} />
      {files === undefined ? null : files.length === 0 ? (
        <p>No files.</p>
      ) : (
        <div class="scroll">
          <table class="list" aria-label="Files">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Size</th>
                <th scope="col" class="wide-only">
                  Modified
                </th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {files.map((f) => (
                <tr key={f.name}>
                  <td class="file-name">{f.name}</td>
                  <td>{f.contentType}</td>
                  <td>{size(f.size)}</td>
                  <td class="wide-only">
                    <time dateTime={f.modifiedAt}>{new Date(f.modifiedAt).toLocaleString()}</time> by{" "}
                    {f.modifiedBy}
                  </td>
                  <td class="actions">
                    {f.contentType.startsWith("image/") ? (
                      <button
                        type="button"
                        onClick={() =>
                          fetchFile(app, f.name).then(
                            (blob) => setPreview({ name: f.name, url: URL.createObjectURL(blob) }),
                            setError,
                          )
                        }
                      >
                        Preview
                      </button>
                    ) : null}
                    <button
                      type="button"
                      onClick={() => fetchFile(app, f.name).then((blob) => download(blob, f.name), setError)}
                    >
                      Download
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {preview ? (
        <figure class="card preview-image">
          <img src={preview.url} alt={`Preview of ${preview.name}`} />
          <figcaption>
            {preview.name}{" "}
            <button type="button" onClick={() => setPreview(undefined)}>
              Close preview
            </button>
          </figcaption>
        </figure>
      ) : null}
    </>
  );
}
