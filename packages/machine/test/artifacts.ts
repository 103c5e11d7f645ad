import { readFileSync } from "node:fs";
import { join } from "node:path";
import { remixArtifactsFor } from "@amp/test-support";
import { unzipSync } from "fflate";

/** Paths of the public Remix artifacts (never committed): see @amp/test-support. */
const artifacts = remixArtifactsFor("@amp/machine's Groovebox suites");
export const GROOVEBOX_WASM = artifacts?.groovebox;
export const REMIX_SAMPLES = artifacts?.samples;
export const haveArtifacts = artifacts !== undefined;

export function skipReason(suite: string): void {
  if (!haveArtifacts) console.log(`${suite}: skipped — Remix's public build not found`);
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
