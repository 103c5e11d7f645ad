import { tempDir as sharedTempDir } from "@amp/test-support";

/** A fresh temp dir (the shared helper's), removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const { path, remove } = sharedTempDir("amp-secrets-");
  return { dir: path, cleanup: remove };
}
