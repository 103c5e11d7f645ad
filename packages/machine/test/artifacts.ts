import { readFileSync } from "node:fs";
import { join } from "node:path";
import { unzipSync } from "fflate";

/** Paths of the public Remix artifacts, from the environment (never committed). */
export const GROOVEBOX_WASM = process.env.AMP_GROOVEBOX_WASM;
export const REMIX_SAMPLES = process.env.AMP_REMIX_SAMPLES;
export const haveArtifacts = GROOVEBOX_WASM !== undefined && REMIX_SAMPLES !== undefined;

export function skipReason(suite: string): void {
  if (!haveArtifacts) {
    console.log(
      `${suite}: skipped — set AMP_GROOVEBOX_WASM and AMP_REMIX_SAMPLES to run against the real Groovebox`,
    );
  }
}

export function grooveboxBytes(): Uint8Array {
  return new Uint8Array(readFileSync(GROOVEBOX_WASM!));
}

/** The compiled app (`apps/<app>/libraries/executable_cross.WASM`) inside a `.remix` file. */
export function appCode(remixFile: string): Uint8Array {
  const files = unzipSync(new Uint8Array(readFileSync(join(REMIX_SAMPLES!, remixFile))));
  const name = Object.keys(files).find((k) => /^apps\/[^/]+\/libraries\/executable_cross\.WASM$/.test(k));
  if (name === undefined) throw new Error(`${remixFile} holds no executable_cross.WASM`);
  return files[name]!;
}

export const testEnv = {
  org: "testorg",
  workspace: "testws",
  user: "alice",
  token: "test-token",
  baseURL: "http://127.0.0.1/",
  app: "test-app",
};
