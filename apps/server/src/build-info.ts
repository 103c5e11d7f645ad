import { readFileSync } from "node:fs";

export interface BuildInfo {
  /** The package version of this server. */
  build: string;
  /** The git commit it was built from, or "unknown". */
  SHA1: string;
}

/**
 * Reads the version from package.json and the commit from dist/build-info.json, which
 * `scripts/write-build-info.mjs` writes at build time. Run from source, both may be missing.
 */
export function readBuildInfo(): BuildInfo {
  const pkg = readJson(new URL("../package.json", import.meta.url));
  const built = readJson(new URL("./build-info.json", import.meta.url));
  return {
    build: typeof pkg?.version === "string" ? pkg.version : "unknown",
    SHA1: typeof built?.SHA1 === "string" ? built.SHA1 : "unknown",
  };
}

function readJson(url: URL): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(url, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
