import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Where Remix's public build is: the Groovebox, the web runtime and the two sample apps. */
export interface RemixArtifacts {
  /** `machine-wasm-code.wasm`, the Groovebox VM. */
  groovebox: string;
  /** A folder holding `tim-wasm.remix` and `collection.remix`. */
  samples: string;
  /** A folder holding the web runtime (`rmx-runtime.js`, `hub-worker.js`) and `bill_gates_5_fav_books.json`, when known. */
  runtime: string | undefined;
}

/** `../shared/remix-public` beside the checkout: the copy every machine and CI run has. */
export const SHARED_REMIX_PUBLIC = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "..",
  "shared",
  "remix-public",
);

/**
 * The artifacts from `AMP_GROOVEBOX_WASM` / `AMP_REMIX_SAMPLES`, else from
 * `../shared/remix-public`; undefined when neither has them. Never committed here.
 */
export function findRemixArtifacts(env: NodeJS.ProcessEnv = process.env): RemixArtifacts | undefined {
  const shared = existsSync(join(SHARED_REMIX_PUBLIC, "machine-wasm-code.wasm"))
    ? SHARED_REMIX_PUBLIC
    : undefined;
  const groovebox = env.AMP_GROOVEBOX_WASM ?? (shared && join(shared, "machine-wasm-code.wasm"));
  const samples = env.AMP_REMIX_SAMPLES ?? shared;
  if (!groovebox || !samples || !existsSync(groovebox)) return undefined;
  const runtime = [samples, shared].find(
    (dir) => dir !== undefined && existsSync(join(dir, "rmx-runtime.js")),
  );
  return { groovebox, samples, runtime };
}

/**
 * The artifacts for a suite that needs them. Without them it prints why the suite skips;
 * under CI (`CI` set) it throws instead, since a skipped Groovebox test there hides a failure.
 */
export function remixArtifactsFor(suite: string): RemixArtifacts | undefined {
  const found = findRemixArtifacts();
  if (found) return found;
  const why = `${suite}: Remix's public build not found (set AMP_GROOVEBOX_WASM and AMP_REMIX_SAMPLES, or put it in ${SHARED_REMIX_PUBLIC})`;
  if (process.env.CI) throw new Error(why);
  console.log(`${why}; skipped`);
  return undefined;
}
