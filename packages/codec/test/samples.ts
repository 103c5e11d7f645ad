import { readFileSync } from "node:fs";
import { join } from "node:path";
import { remixArtifactsFor } from "@amp/test-support";
import { unzipSync } from "fflate";

/** The public sample apps (a folder holding tim-wasm.remix and collection.remix): see @amp/test-support. */
export const samplesDir = remixArtifactsFor("the .remix sample tests")?.samples;
export const sampleFiles = ["tim-wasm.remix", "collection.remix"];

export function openSample(file: string): Record<string, Uint8Array> {
  return unzipSync(readFileSync(join(samplesDir!, file)));
}

/** The app names listed in an archive's manifest. */
export function sampleApps(entries: Record<string, Uint8Array>): string[] {
  const manifest = JSON.parse(new TextDecoder().decode(entries["manifest.json"])) as {
    apps: Record<string, boolean>;
  };
  return Object.keys(manifest.apps);
}
