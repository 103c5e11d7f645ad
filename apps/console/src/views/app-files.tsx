import { useEffect, useState } from "preact/hooks";
import { api, ok } from "../api/client.js";
import { resourceNames } from "../api/resources.js";
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

/**
 * An app's files, with a preview of images (fetched with the token, shown from memory). A file
 * that is one of the app's resources (a public file stored under its identifier) shows by its
 * resource name; without the resources (not readable) files show by their stored names.
 */
export function AppFiles(props: { app: string }) {
  const { app } = props;
  const [files, setFiles] = useState<FileEntry[]>();
  const [resources, setResources] = useState<Map<string, string[]>>();
  const [error, setError] = useState<unknown>();
  const [resourcesError, setResourcesError] = useState<unknown>();
  const [preview, setPreview] = useState<{ name: string; url: string }>();

  useEffect(() => {
    ok(api.GET("/{app}/files", { params: { path: { app } } })).then(setFiles, setError);
    ok(api.GET("/{app}/resources", { params: { path: { app } } }))
      .then(resourceNames)
      .then(setResources, setResourcesError);
  }, [app]);
  useEffect(() => () => preview && URL.revokeObjectURL(preview.url), [preview]);

  return (
    <>
      <h2>Files</h2>
      <Notice error={error} />
      <Notice error={resourcesError} />
      {files === undefined ? null : files.length === 0 ? (
        <p>No files.</p>
      ) : (
        <div class="scroll">
          <table class="list" aria-label="Files">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col" class="wide-only">
                  Type
                </th>
                <th scope="col">Size</th>
                <th scope="col" class="wide-only">
                  Modified
                </th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {files.map((f) => {
                const names = f.public ? resources?.get(f.name) : undefined;
                const shown = names?.join(", ") ?? f.name;
                return (
                  <tr key={f.name}>
                    <td class="file-name">
                      {names ? (
                        <>
                          {shown} <span class="badge">public resource</span>
                          <small class="stored-name" title={f.name}>
                            {f.name}
                          </small>
                        </>
                      ) : (
                        <>
                          {f.name} {f.public ? <span class="badge">public</span> : null}
                        </>
                      )}
                    </td>
                    <td class="wide-only">{f.contentType}</td>
                    <td class="file-size">{size(f.size)}</td>
                    <td class="wide-only">
                      <time dateTime={f.modifiedAt}>{new Date(f.modifiedAt).toLocaleString()}</time> by{" "}
                      {f.modifiedBy}
                    </td>
                    <td class="actions file-actions">
                      {f.contentType.startsWith("image/") ? (
                        <button
                          type="button"
                          onClick={() =>
                            fetchFile(app, f.name).then(
                              (blob) => setPreview({ name: shown, url: URL.createObjectURL(blob) }),
                              setError,
                            )
                          }
                        >
                          Preview
                        </button>
                      ) : null}
                      <button
                        type="button"
                        onClick={() =>
                          fetchFile(app, f.name).then(
                            (blob) => download(blob, names?.[0] ?? f.name),
                            setError,
                          )
                        }
                      >
                        Download
                      </button>
                    </td>
                  </tr>
                );
              })}
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
