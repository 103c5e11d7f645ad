/**
 * What the machine benches run: the real Groovebox and tim-wasm from Remix's public build, an
 * init env, and the entry arguments of loading `home` and tapping its button. Exits (skipped)
 * when the build is not found.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { findRemixArtifacts } from "@amp/test-support";
import { unzipSync } from "fflate";
import type { InitEnv } from "../src/index.js";

const artifacts = findRemixArtifacts();
if (!artifacts) {
  console.log(
    "skipped: Remix's public build not found (AMP_GROOVEBOX_WASM/AMP_REMIX_SAMPLES or ../shared/remix-public)",
  );
  process.exit(0);
}
export const gbBytes = new Uint8Array(readFileSync(artifacts.groovebox));
const zip = unzipSync(new Uint8Array(readFileSync(join(artifacts.samples, "tim-wasm.remix"))));
export const app = zip["apps/tim-wasm/libraries/executable_cross.WASM"]!;
export const env: InitEnv = {
  org: "o",
  workspace: "w",
  app: "tim-wasm",
  user: "u",
  token: "t",
  baseURL: "http://127.0.0.1/",
};
export const loadArgs = ["home", [{}, { type: "start" }]];
export const tapArgs = ["home.$closure_0efd_19", "$cloenv_ap_0", null, [], {}];
