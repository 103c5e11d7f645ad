import { tempDir as sharedTempDir } from "@amp/test-support";
import type { ActingUser } from "../src/index.js";

export { silentLogger } from "@amp/test-support";
export { drain } from "../src/store/drain.js";

/** A fresh temp dir (the shared helper) under this package's prefix. */
export function tempDir(prefix = "amp-apps-"): { path: string; remove: () => void } {
  return sharedTempDir(prefix);
}

export const root: ActingUser = { id: "root", anonymous: false, root: true };
export function user(id: string): ActingUser {
  return { id, anonymous: false, root: false };
}
export function anon(id = "anon-1"): ActingUser {
  return { id, anonymous: true, root: false };
}
