/**
 * Cold start (issue 12, item 6): process spawn → `GET /x/health/ready` answers 200, for the
 * built `amp` (embedded defaults, fresh data folder each time) beside a bare Hono process on
 * @hono/node-server, alternating in one run: amp restarting on its data folder (the usual
 * start), and amp on a fresh folder (the first start of a server: keyring, signing key and
 * system stores created). The very first start also fills V8's compile cache (Node ≥ 22.1); it
 * is reported apart.
 * Run: pnpm --filter amp build && pnpm --filter amp bench:cold   (BENCH_STARTS=7)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@amp/test-support";

const STARTS = Number(process.env.BENCH_STARTS ?? 7);
const AMP_BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const HONO = fileURLToPath(import.meta.resolve("hono"));
const NODE_SERVER = fileURLToPath(import.meta.resolve("@hono/node-server"));

/** Milliseconds from spawn until `url` answers 200. */
async function timeToReady(args: readonly string[], url: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { stdio: "ignore" });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${args[0]} exited with ${child.exitCode}`);
      const ok = await fetch(url).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } finally {
    child.kill("SIGKILL");
  }
}

async function ampStart(dir: string): Promise<number> {
  const [port, broker, admin] = [await freePort(), await freePort(), await freePort()];
  const ports = ["--port", `${port}`, "--broker-port", `${broker}`, "--admin-port", `${admin}`];
  return timeToReady([AMP_BIN, "--database-dir", dir, ...ports], `http://127.0.0.1:${port}/x/health/ready`);
}

async function freshStart(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "amp-cold-"));
  try {
    return await ampStart(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bareStart(script: string): Promise<number> {
  const port = await freePort();
  return timeToReady([script, `${port}`], `http://127.0.0.1:${port}/ready`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const scratch = mkdtempSync(join(tmpdir(), "bare-hono-"));
const bare = join(scratch, "bare.mjs");
writeFileSync(
  bare,
  `import { Hono } from ${JSON.stringify(HONO)};
import { serve } from ${JSON.stringify(NODE_SERVER)};
const app = new Hono().get("/ready", (c) => c.json({ ok: true }));
serve({ fetch: app.fetch, port: Number(process.argv[2]) });\n`,
);
const data = join(scratch, "data");
try {
  const first = await ampStart(data);
  const restart: number[] = [];
  const fresh: number[] = [];
  const hono: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    restart.push(await ampStart(data));
    fresh.push(await freshStart());
    hono.push(await bareStart(bare));
    const [r, f, h] = [restart[i], fresh[i], hono[i]].map((ms) => ms?.toFixed(0));
    process.stderr.write(
      `start ${i + 1}/${STARTS}: amp restart ${r} ms, amp fresh ${f} ms, bare Hono ${h} ms\n`,
    );
  }
  const [r, f, h] = [median(restart), median(fresh), median(hono)];
  const verdict = (ms: number) =>
    `(target ≤ 500 ms) ${ms <= 500 ? "✓" : "✗"}; amp/bare ${(ms / h).toFixed(2)}×`;
  console.log(`node ${process.version}; ${STARTS} starts each, medians`);
  console.log(`amp very first start (fills the compile cache): ${first.toFixed(0)} ms`);
  console.log(`amp restart to ready:            ${r.toFixed(0)} ms ${verdict(r)}`);
  console.log(`amp first start on a new folder: ${f.toFixed(0)} ms ${verdict(f)}`);
  console.log(`bare Hono process:               ${h.toFixed(0)} ms`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
