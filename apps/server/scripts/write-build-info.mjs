// Records the git commit the server is built from in dist/build-info.json.
// AMP_BUILD_SHA1 wins (the Docker build passes it, having no .git); else `git rev-parse HEAD`.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";

function gitCommit() {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

const sha1 = process.env.AMP_BUILD_SHA1 || gitCommit() || "unknown";
const dist = new URL("../dist/", import.meta.url);
mkdirSync(dist, { recursive: true });
writeFileSync(new URL("build-info.json", dist), `${JSON.stringify({ SHA1: sha1 })}\n`);
