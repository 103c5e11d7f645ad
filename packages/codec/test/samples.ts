import { readFileSync } from "node:fs";
import { join } from "node:path";
import { unzipSync } from "fflate";

/** The public sample apps, read from AMP_REMIX_SAMPLES (a folder holding tim-wasm.remix and collection.remix). */
export const samplesDir = process.env.AMP_REMIX_SAMPLES;
export const sampleFiles = ["tim-wasm.remix", "collection.remix"];

if (!samplesDir) {
  console.log(
    "skipping the .remix sample tests: set AMP_REMIX_SAMPLES to the folder holding tim-wasm.remix and collection.remix",
  );
}

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
