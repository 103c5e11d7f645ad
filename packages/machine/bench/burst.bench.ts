/**
 * Sessions on demand, at scale: the real Groovebox running tim-wasm, with LIVE sessions
 * (default 1,000; each initialized and showing `home`) held open throughout.
 *
 *   (a) 10 concurrent creates (create→init→load), ROUNDS rounds (default 20), p50/p99;
 *   (b) sustained creation for SECONDS (default 10): CONCURRENCY (default 10) clients each
 *       create→init→load a session and destroy the oldest live one, so the live count holds;
 *   (c) one live session tapping every 10 ms during (b), beside its taps with nothing else running;
 *   memory: RSS per live session and the VMs' linear memory (`memoryBytes()`) beside it.
 *
 *   pnpm --filter @amp/machine bench:burst      (finds ../shared/remix-public, or set
 *   AMP_GROOVEBOX_WASM / AMP_REMIX_SAMPLES; LIVE=…, ROUNDS=…, SECONDS=…, CONCURRENCY=…)
 *
 * 1,000 live sessions take ≈1.5–3 GiB.
 */
import { FfiRegistry, type GrooveboxMachine, GrooveboxPool, standardHooks } from "../src/index.js";
import { app, env, gbBytes, loadArgs, tapArgs } from "./tim-wasm.js";

const LIVE = Number(process.env.LIVE ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 20);
const SECONDS = Number(process.env.SECONDS ?? 10);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 10);
const WORKERS = Number(process.env.WORKERS ?? 2);
const SPARES = process.env.SPARES === undefined ? undefined : Number(process.env.SPARES);

const code = [{ codeID: 0, bytes: app }];

const mib = 2 ** 20;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? Number.NaN;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const gc = (globalThis as { gc?: () => void }).gc;

const ffi = new FfiRegistry().registerAll(standardHooks());
const pool = await GrooveboxPool.open({
  groovebox: gbBytes,
  workers: WORKERS,
  ...(SPARES === undefined ? {} : { spares: SPARES }),
});
await pool.warm(code, SPARES, { initEnv: { ...env, user: "", token: "" } });

let sessionNo = 0;
async function session(): Promise<GrooveboxMachine> {
  const m = await pool.createMachine({ ffi, code });
  await m.init({ ...env, user: `u${++sessionNo}`, token: `t${sessionNo}` });
  await m.enter("load", "", 0, loadArgs);
  return m;
}
async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const v = await f();
  return [performance.now() - t, v];
}

// ---- fill
gc?.();
await sleep(200);
const rss0 = process.memoryUsage().rss;
console.log(`filling ${LIVE} live sessions…`);
const live: GrooveboxMachine[] = [];
const fillStart = performance.now();
for (let i = 0; i < LIVE; i += 10) {
  live.push(...(await Promise.all(Array.from({ length: Math.min(10, LIVE - i) }, session))));
}
console.log(`filled in ${((performance.now() - fillStart) / 1000).toFixed(1)} s`);
await sleep(2000); // spares refill, idle collections settle
gc?.();
const rss1 = process.memoryUsage().rss;
const linear = await Promise.all(live.map((m) => m.memoryBytes()));
const linearMean = linear.reduce((a, b) => a + b, 0) / linear.length;
const rssPer = (rss1 - rss0) / LIVE;
const poolMem = await pool.memoryStats();
console.log(
  `memory: RSS ${(rss0 / mib).toFixed(0)} → ${(rss1 / mib).toFixed(0)} MiB; per live session ${(rssPer / mib).toFixed(2)} MiB, ` +
    `linear memory per VM ${(linearMean / mib).toFixed(2)} MiB (min ${(Math.min(...linear) / mib).toFixed(2)}, max ${(Math.max(...linear) / mib).toFixed(2)})`,
);
console.log(`workers: ${JSON.stringify(poolMem)}`);

// ---- taps alone
const tapper = live[live.length - 1]!;
const tap = () => tapper.enter("invoke3", "", 0, tapArgs);
for (let i = 0; i < 100; i++) await tap();
const tapsAlone: number[] = [];
for (let i = 0; i < 300; i++) {
  tapsAlone.push((await timed(tap))[0]);
  await sleep(10);
}

// ---- (a) 10 concurrent creates
console.log(`(a) ${ROUNDS} rounds of 10 concurrent creates…`);
const burst: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const results = await Promise.all(Array.from({ length: 10 }, () => timed(session)));
  burst.push(...results.map(([t]) => t));
  await Promise.all(results.map(([, m]) => m.destroy()));
  await sleep(500); // arrivals a burst at a time, half a second apart
}

// ---- (b) sustained creation, constant live count; (c) a live session's taps meanwhile
console.log(`(b) sustained creation for ${SECONDS} s, ${CONCURRENCY} clients…`);
const victims = live.slice(0, -1); // every live session but the tapper, oldest first
let created = 0;
const createLatency: number[] = [];
const end = performance.now() + SECONDS * 1000;
const tapsDuring: number[] = [];
const client = async () => {
  while (performance.now() < end) {
    const [t, m] = await timed(session);
    createLatency.push(t);
    created++;
    victims.push(m);
    await victims.shift()?.destroy();
  }
};
const tapping = (async () => {
  while (performance.now() < end) {
    tapsDuring.push((await timed(tap))[0]);
    await sleep(10);
  }
})();
const started = performance.now();
await Promise.all([...Array.from({ length: CONCURRENCY }, client), tapping]);
const rate = created / ((performance.now() - started) / 1000);

const f = (x: number) => `${x.toFixed(2)} ms`;
const rows: Array<[string, string, string, string]> = [
  ["(a) 10 concurrent creates, ready p50", f(pct(burst, 0.5)), "", ""],
  [
    "(a) 10 concurrent creates, ready p99",
    f(pct(burst, 0.99)),
    "≤ 150 ms",
    `${(pct(burst, 0.99) / 150).toFixed(2)}×`,
  ],
  ["(b) sustained new sessions/s", `${rate.toFixed(0)} /s`, "≥ 100 /s", `${(rate / 100).toFixed(2)}×`],
  [
    "(b) create→init→load p50 / p99",
    `${f(pct(createLatency, 0.5))} / ${f(pct(createLatency, 0.99))}`,
    "",
    "",
  ],
  [
    "(c) tap p50 alone / during (b)",
    `${f(pct(tapsAlone, 0.5))} / ${f(pct(tapsDuring, 0.5))}`,
    "",
    `${(pct(tapsDuring, 0.5) / pct(tapsAlone, 0.5)).toFixed(2)}×`,
  ],
  [
    "(c) tap p99 alone / during (b)",
    `${f(pct(tapsAlone, 0.99))} / ${f(pct(tapsDuring, 0.99))}`,
    "",
    `${(pct(tapsDuring, 0.99) / pct(tapsAlone, 0.99)).toFixed(2)}×`,
  ],
  [
    "RSS per live session",
    `${(rssPer / mib).toFixed(2)} MiB`,
    "≤ 1.5 MiB",
    `${(rssPer / mib / 1.5).toFixed(2)}×`,
  ],
  ["linear memory per live VM (mean)", `${(linearMean / mib).toFixed(2)} MiB`, "", ""],
];
console.log(
  `\n${LIVE} live sessions, ${WORKERS} workers; ${ROUNDS} bursts, ${created} sustained creates, ${tapsDuring.length} taps during (b)\n`,
);
console.log("| measure | ours | target | ratio |\n| --- | --- | --- | --- |");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
await Promise.all(victims.map((m) => m.destroy()));
await pool.close();
