import { useEffect, useRef, useState } from "preact/hooks";
import { api, ok } from "../api/client.js";
import type { components } from "../api/schema.js";
import { importRemix, type Upload } from "../api/upload.js";
import { useMe } from "../auth/me.js";
import { segment } from "../router.js";
import { useDraft } from "../ui/draft.js";
import { Link } from "../ui/link.js";
import { Notice } from "../ui/notice.js";

type AppInfo = components["schemas"]["AppInfo"];

/** Saves `blob` as `name` through a temporary link. */
export function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function exportApp(name: string): Promise<void> {
  const blob = await ok(api.POST("/x/apps/export", { body: { apps: { [name]: true } }, parseAs: "blob" }));
  download(blob as Blob, `${name}.remix`);
}

/** Apps the user holds a role on; root also creates and imports. */
export function AppsView() {
  const me = useMe();
  const [apps, setApps] = useState<AppInfo[]>();
  const [error, setError] = useState<unknown>();
  const [info, setInfo] = useState<string>();
  const load = () =>
    ok(api.GET("/x/apps")).then(
      (list) => setApps([...list].sort((a, b) => a.name.localeCompare(b.name))),
      setError,
    );
  useEffect(() => {
    void load();
  }, []);

  return (
    <section>
      <h1>Apps</h1>
      <Notice error={error} info={info} />
      {apps === undefined ? (
        <p role="status">Loading…</p>
      ) : apps.length === 0 ? (
        <p>No apps yet{me.root ? ": create one or import a .remix below." : " that you hold a role on."}</p>
      ) : (
        <div class="scroll">
          <table class="list" aria-label="Apps">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Display name</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {apps.map((app) => (
                <tr key={app.name}>
                  <td>
                    <Link to={`apps/${segment(app.name)}`}>{app.name}</Link>
                  </td>
                  <td>{app.displayName}</td>
                  <td>
                    <time dateTime={app.createdAt}>{new Date(app.createdAt).toLocaleString()}</time> by{" "}
                    {app.createdBy}
                  </td>
                  <td class="actions">
                    <Link to={`apps/${segment(app.name)}/data`}>Data</Link>
                    <button
                      type="button"
                      onClick={() => exportApp(app.name).catch(setError)}
                      aria-label={`Export ${app.name}`}
                    >
                      Export
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {me.root ? (
        <div class="columns">
          <CreateApp
            onCreated={(name) => {
              setInfo(`Created ${name}.`);
              void load();
            }}
          />
          <ImportRemix
            onImported={(names) => {
              setInfo(`Imported ${names.join(", ")}.`);
              void load();
            }}
          />
        </div>
      ) : null}
    </section>
  );
}

function CreateApp(props: { onCreated: (name: string) => void }) {
  const [form, setForm, clear] = useDraft("create-app", { name: "", displayName: "" });
  const [error, setError] = useState<unknown>();
  return (
    <form
      class="card"
      onSubmit={async (event) => {
        event.preventDefault();
        setError(undefined);
        try {
          const created = await ok(
            api.POST("/x/apps", {
              body: { name: form.name, ...(form.displayName ? { displayName: form.displayName } : {}) },
            }),
          );
          setForm({ name: "", displayName: "" });
          clear();
          props.onCreated(created.name);
        } catch (e) {
          setError(e);
        }
      }}
    >
      <h2>Create an app</h2>
      <Notice error={error} />
      <label for="new-app-name">Name</label>
      <input
        id="new-app-name"
        required
        maxLength={100}
        value={form.name}
        onInput={(e) => setForm({ ...form, name: e.currentTarget.value })}
      />
      <label for="new-app-display">Display name (optional)</label>
      <input
        id="new-app-display"
        maxLength={200}
        value={form.displayName}
        onInput={(e) => setForm({ ...form, displayName: e.currentTarget.value })}
      />
      <button type="submit">Create</button>
    </form>
  );
}

/** Import by file input or drag and drop, with the upload's progress and a Cancel button. */
function ImportRemix(props: { onImported: (names: string[]) => void }) {
  const [progress, setProgress] = useState<{ name: string; fraction: number }>();
  const [error, setError] = useState<unknown>();
  const [over, setOver] = useState(false);
  const upload = useRef<Upload | undefined>(undefined);
  const input = useRef<HTMLInputElement>(null);

  const start = async (file: File) => {
    setError(undefined);
    setProgress({ name: file.name, fraction: 0 });
    upload.current = importRemix(file, (fraction) => setProgress({ name: file.name, fraction }));
    try {
      const imported = await upload.current.done;
      props.onImported(imported.map((a) => a.name));
      const unanswered = imported.flatMap((a) => a.unansweredFfis ?? []);
      if (unanswered.length > 0)
        setError(new Error(`Imported, but this server does not answer these FFIs: ${unanswered.join(", ")}`));
    } catch (e) {
      setError(e);
    } finally {
      upload.current = undefined;
      setProgress(undefined);
      if (input.current) input.current.value = "";
    }
  };

  return (
    <form class="card" onSubmit={(e) => e.preventDefault()}>
      <h2>Import a .remix</h2>
      <Notice error={error} />
      {/* biome-ignore lint/a11y/noStaticElementInteractions: the drop zone; the file input inside is its keyboard way */}
      <div
        class={over ? "drop over" : "drop"}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          const file = e.dataTransfer?.files[0];
          if (file && !upload.current) void start(file);
        }}
      >
        <label for="remix-file">Drop a .remix file here, or choose one</label>
        <input
          id="remix-file"
          ref={input}
          type="file"
          accept=".remix,application/zip"
          disabled={progress !== undefined}
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            if (file) void start(file);
          }}
        />
      </div>
      {progress ? (
        <div class="progress">
          <label for="import-progress">Uploading {progress.name}</label>
          <progress id="import-progress" max={1} value={progress.fraction}>
            {Math.round(progress.fraction * 100)}%
          </progress>
          <span>{Math.round(progress.fraction * 100)}%</span>
          <button type="button" onClick={() => upload.current?.cancel()}>
            Cancel
          </button>
        </div>
      ) : null}
    </form>
  );
}
