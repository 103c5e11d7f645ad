/**
 * Envelope encryption of small secrets against raw AES-256-GCM, in one run.
 * Run: pnpm --filter @amp/secrets bench
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalKeyring, openAesGcm, openEnvelope, sealAesGcm, sealEnvelope } from "../src/index.js";

const DURATION_MS = Number(process.env.BENCH_MS ?? 1500);

async function rate(label: string, fn: () => unknown): Promise<number> {
  for (let i = 0; i < 200; i++) await fn(); // warm up
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < DURATION_MS) {
    for (let i = 0; i < 100; i++) await fn();
    n += 100;
  }
  const perSecond = (n * 1000) / (performance.now() - start);
  console.log(`  ${label.padEnd(34)} ${Math.round(perSecond).toLocaleString("en").padStart(10)} ops/s`);
  return perSecond;
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

    console.log(`secrets: ${value.length}-byte values, ${DURATION_MS} ms per measurement`);
    const rawSeal = await rate("raw AES-256-GCM encrypt", () => sealAesGcm(rawKey, value, aad));
    const envSeal = await rate("envelope encrypt (local keyring)", () => sealEnvelope(keyring, ctx, value));
    const rawOpen = await rate("raw AES-256-GCM decrypt", () => openAesGcm(rawKey, raw, aad));
    const envOpen = await rate("envelope decrypt (local keyring)", () =>
      openEnvelope(keyring, ctx, envelope),
    );
    console.log(`  encrypt ratio envelope/raw: ${((envSeal / rawSeal) * 100).toFixed(0)}%`);
    console.log(`  decrypt ratio envelope/raw: ${((envOpen / rawOpen) * 100).toFixed(0)}%`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await benchSecrets();
