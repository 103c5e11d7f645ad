import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import buildServer from "../../server/test/helpers/build-once.js";

const root = fileURLToPath(new URL("..", import.meta.url));

function newest(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newest(join(path, entry))));
}

/** Builds the server (its own build-once) and the console (vite build) when either is stale. */
export default function setup(): void {
  buildServer();
  const built = statSync(join(root, "dist/index.html"), { throwIfNoEntry: false });
  const sources = Math.max(newest(join(root, "src")), newest(join(root, "index.html")));
  if (built && built.mtimeMs >= sources) return;
  const vite = join(
    dirname(createRequire(join(root, "package.json")).resolve("vite/package.json")),
    "bin/vite.js",
  );
  // vitest sets NODE_ENV=test, which would make Vite build Preact's development bundle.
  const env = { ...process.env, NODE_ENV: "production" };
  execFileSync(process.execPath, [vite, "build"], { cwd: root, stdio: "inherit", env });
}
