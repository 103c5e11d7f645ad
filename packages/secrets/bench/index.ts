/**
 * Envelope encryption of small secrets against raw AES-256-GCM, in one run.
 * Run: pnpm --filter @amp/secrets bench
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalKeyring, openAesGcm, openEnvelope, sealAesGcm, sealEnvelope } from "../src/index.js";

const DURATION_MS = Number(process.env.BENCH_MS ?? 3000);
const BATCH = 100;

/**
 * Operations per second of each case. The cases take turns in small batches for the
 * whole run, so load from other processes on a shared machine hits all of them alike.
 */
async function measure(cases: Record<string, () => unknown>): Promise<Record<string, number>> {
  const entries = Object.entries(cases);
  for (const [, fn] of entries) for (let i = 0; i < 200; i++) await fn(); // warm up
  const spent = new Map(entries.map(([name]) => [name, 0]));
  const end = performance.now() + DURATION_MS * entries.length;
  let rounds = 0;
  while (performance.now() < end) {
    for (const [name, fn] of entries) {
      const start = performance.now();
      for (let i = 0; i < BATCH; i++) await fn();
      spent.set(name, spent.get(name)! + performance.now() - start);
    }
    rounds++;
  }
  const rates: Record<string, number> = {};
  for (const [name] of entries) {
    rates[name] = (rounds * BATCH * 1000) / spent.get(name)!;
    console.log(`  ${name.padEnd(34)} ${Math.round(rates[name]).toLocaleString("en").padStart(10)} ops/s`);
  }
  return rates;
}

export async function benchSecrets(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "amp-secrets-bench-"));
  try {
    const keyring = new LocalKeyring({ databaseDir: dir });
    const ctx = { app: "bench", name: "API_KEY" };
    const value = Buffer.from("sk_live_0123456789abcdef0123456789"); // a typical 34-byte API key
    const rawKey = randomBytes(32);
    const aad = Buffer.from("bench");
    const envelope = await sealEnvelope(keyring, ctx, value);
    const raw = sealAesGcm(rawKey, value, aad);

    console.log(`secrets: ${value.length}-byte values, cases interleaved, ${DURATION_MS} ms each`);
    const r = await measure({
      "raw AES-256-GCM encrypt": () => sealAesGcm(rawKey, value, aad),
      "envelope encrypt (local keyring)": () => sealEnvelope(keyring, ctx, value),
      "raw AES-256-GCM decrypt": () => openAesGcm(rawKey, raw, aad),
      "envelope decrypt (local keyring)": () => openEnvelope(keyring, ctx, envelope),
    });
    const ratio = (a: string, b: string) => `${((r[a]! / r[b]!) * 100).toFixed(0)}%`;
    console.log(
      `  encrypt ratio envelope/raw: ${ratio("envelope encrypt (local keyring)", "raw AES-256-GCM encrypt")}`,
    );
    console.log(
      `  decrypt ratio envelope/raw: ${ratio("envelope decrypt (local keyring)", "raw AES-256-GCM decrypt")}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await benchSecrets();
