import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Builds dist/ (tsc -b, then the build-info script) unless it is newer than every source. */
export default function setup(): void {
  const bin = statSync(join(root, "dist/bin.js"), { throwIfNoEntry: false });
  const info = statSync(join(root, "dist/build-info.json"), { throwIfNoEntry: false });
  if (bin && info && bin.mtimeMs >= newest(join(root, "src"))) return;
  const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-b"], { cwd: root, stdio: "inherit" });
  execFileSync(process.execPath, ["scripts/write-build-info.mjs"], { cwd: root, stdio: "inherit" });
}
