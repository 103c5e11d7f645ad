import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./temp-dir.js";

/** A host page of one `<rmx-runtime>` element, configured from its query string. */
export const RUNTIME_HOST_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><script src="/r/rmx-runtime.js"></script></head>
<body style="margin:0"><div id="app" style="height:720px"></div>
<script>
  const q = new URLSearchParams(location.search);
  const el = document.createElement("rmx-runtime");
  for (const name of ["amp-prefix", "db-name", "screen-name", "token", "params", "vm-init"]) {
    if (q.has(name)) el.setAttribute(name, q.get(name));
  }
  document.getElementById("app").appendChild(el);
</script></body></html>`;

/**
 * A temp folder for amp's `--static-runtime` and `--static-groovebox` (served at /r/ and /g/):
 * Remix's web runtime from `runtime` (read-only ../shared, so copied) and the host page as
 * `index.html`. Open `/r/index.html?amp-prefix=…&db-name=…&screen-name=…&token=…`.
 */
export function runtimeHostFolder(runtime: string): { path: string; remove: () => void } {
  const folder = tempDir("amp-runtime-host-");
  for (const file of ["rmx-runtime.js", "hub-worker.js"])
    copyFileSync(join(runtime, file), join(folder.path, file));
  writeFileSync(join(folder.path, "index.html"), RUNTIME_HOST_PAGE);
  return folder;
}
