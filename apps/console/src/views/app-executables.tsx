import { useEffect, useState } from "preact/hooks";
import { api, ok } from "../api/client.js";
import { Notice } from "../ui/notice.js";

interface Executable {
  _rmx_id?: string;
  variant?: string;
  _rmx_last_modified_at?: string;
}

/** The app's compiled executables (its `executable_cross` documents), as the sessions load them. */
export function AppExecutables(props: { app: string }) {
  const [found, setFound] = useState<Executable[]>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const query = '_rmx_type == "executable_cross"';
    ok(api.GET("/{app}/query.json", { params: { path: { app: props.app }, query: { query } } })).then(
      (docs) => setFound(docs as Executable[]),
      setError,
    );
  }, [props.app]);
  return (
    <>
      <h2>Executables</h2>
      <Notice error={error} />
      {found === undefined ? null : found.length === 0 ? (
        <p>No executables: this app has no compiled code.</p>
      ) : (
        <ul>
          {found.map((e) => (
            <li key={e._rmx_id}>
              <code>{e._rmx_id}</code> {e.variant}
              {e._rmx_last_modified_at ? `, built ${new Date(e._rmx_last_modified_at).toLocaleString()}` : ""}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
