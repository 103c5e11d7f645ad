/**
 * @amp/machine benchmarks, side by side with the raw limit: the same Groovebox
 * instantiated directly with WebAssembly.instantiate and driven in-process by the
 * same VM core (no pool, no worker; it decodes the cells, as any host must). "Pooled"
 * raw figures use an in-process pre-initialized VM, like our warmed pool.
 *
 *   AMP_GROOVEBOX_WASM=… AMP_REMIX_SAMPLES=… pnpm --filter @amp/machine bench
 */
import { decodeRmx, encodeRmx } from "@amp/codec";
import { GrooveboxVM } from "../src/groovebox/vm.js";
import { wasiImports } from "../src/groovebox/wasi.js";
import {
  FfiRegistry,
  type GrooveboxMachine,
  GrooveboxPool,
  type InitEnv,
  initEnvValue,
  standardHooks,
} from "../src/index.js";
import { app, env, gbBytes, loadArgs, tapArgs } from "./tim-wasm.js";

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const ms = (x: number) => `${x.toFixed(2)} ms`;
async function time<T>(f: () => Promise<T> | T): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}
const rows: Array<[string, string, string, string]> = [];
function row(what: string, ours: number, raw: number | undefined, unit = "ms") {
  const ratio = raw === undefined ? "" : `${(ours / raw).toFixed(2)}×`;
  const fmt = (x: number) => (unit === "ms" ? ms(x) : `${x.toFixed(2)} ${unit}`);
  rows.push([what, fmt(ours), raw === undefined ? "" : fmt(raw), ratio]);
  console.log(`${what}: ours ${fmt(ours)}${raw === undefined ? "" : `, raw ${fmt(raw)}, ratio ${ratio}`}`);
}

// ---- the raw limit: the same VM core, in-process (no pool, no worker, no codec on the way out)
console.log("compiling…");
const gbModule = await WebAssembly.compile(gbBytes);
const appModule = await WebAssembly.compile(app);
const opts = { timeoutMs: 10_000, memoryLimitBytes: 1 << 30, build: 867 };
const rawNull = encodeRmx(null);
const rawEnv = encodeRmx(initEnvValue(env));
const neutralEnv: InitEnv = { ...env, user: "", token: "" };
/** Runs to idle, answering every FFI with null and decoding the cells (as any host must). */
function rawDrive(vm: GrooveboxVM, run: ReturnType<GrooveboxVM["run"]>) {
  for (;;) {
    for (const ev of run.events) if (ev.t === "cell") decodeRmx(ev.args);
    if (run.stop.type !== "ffi") return;
    run = vm.ffiReturn(run.stop.coroutine, rawNull);
  }
}
function rawLinked(): GrooveboxVM {
  const vm = GrooveboxVM.create(gbModule, opts);
  vm.addCode(0, appModule, "app");
  vm.linkCode(0, false);
  return vm;
}
function rawPreinitialized(): GrooveboxVM {
  const vm = rawLinked();
  rawDrive(vm, vm.init(encodeRmx(initEnvValue(neutralEnv))));
  return vm;
}
const rawLoad = (vm: GrooveboxVM) => rawDrive(vm, vm.enter("load", "", 0, encodeRmx(loadArgs), false));
const rawTap = (vm: GrooveboxVM) => rawDrive(vm, vm.enter("invoke3", "", 0, encodeRmx(tapArgs), false));

console.log("opening the pool…");
const ffi = new FfiRegistry().registerAll(standardHooks());
const pool = await GrooveboxPool.open({ groovebox: gbBytes });
const code = [{ codeID: 0, bytes: app }];

// Each measure alternates ours and raw, iteration by iteration, so both see the same
// load on this shared machine; both sides are warmed up the same way first.
async function pair(n: number, warmup: number, ours: () => Promise<unknown>, raw: () => unknown) {
  const o: number[] = [];
  const r: number[] = [];
  for (let i = 0; i < warmup + n; i++) {
    const a = await time(ours);
    const b = await time(raw);
    if (i >= warmup) {
      o.push(a);
      r.push(b);
    }
  }
  return { ours: o, raw: r };
}
const settle = () => new Promise((r) => setTimeout(r, 30)); // idle time, in which the workers refill

console.log("instantiate…");
const inst = await pair(
  30,
  5,
  async () => (await pool.createMachine({ ffi })).destroy(),
  () => GrooveboxVM.create(gbModule, opts),
);
const bareInst: number[] = [];
for (let i = 0; i < 30; i++) {
  bareInst.push(
    await time(() =>
      WebAssembly.instantiate(gbModule, wasiImports({ memory: undefined, onLine() {}, onClock() {} })),
    ),
  );
}

console.log("cold create→init→load…");
const cold = await pair(
  30,
  5,
  async () => {
    const m = await pool.createMachine({ ffi, code });
    await m.init(env);
    await m.enter("load", "", 0, loadArgs);
    await m.destroy();
  },
  () => {
    const vm = rawLinked();
    rawDrive(vm, vm.init(rawEnv));
    rawLoad(vm);
  },
);

console.log("pooled sessions…");
await pool.warm(code, 4, { initEnv: neutralEnv });
const rawSpares = Array.from({ length: 40 }, rawPreinitialized);
const readyOurs: number[] = [];
const readyRaw: number[] = [];
const pooledOurs: number[] = [];
const pooledRaw: number[] = [];
for (let i = 0; i < 40; i++) {
  await settle();
  let t0 = performance.now();
  const m = await pool.createMachine({ ffi, code });
  await m.init(env);
  readyOurs.push(performance.now() - t0);
  await m.enter("load", "", 0, loadArgs);
  pooledOurs.push(performance.now() - t0);
  await m.destroy();
  t0 = performance.now();
  const vm = rawSpares[i]!;
  rawDrive(vm, vm.init(rawEnv));
  readyRaw.push(performance.now() - t0);
  rawLoad(vm);
  pooledRaw.push(performance.now() - t0);
}

console.log("taps…");
const tapVm = rawPreinitialized();
rawDrive(tapVm, tapVm.init(rawEnv));
rawLoad(tapVm);
const tapM = await pool.createMachine({ ffi, code });
await tapM.init(env);
await tapM.enter("load", "", 0, loadArgs);
const taps = await pair(
  400,
  200,
  () => tapM.enter("invoke3", "", 0, tapArgs),
  () => rawTap(tapVm),
);

// Sessions created one after another with no pause (a burst of users arriving): each
// create→init→load starts when the previous one is loaded; the sessions stay live.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function backToBack(n: number) {
  const ready: number[] = [];
  const loaded: number[] = [];
  const live: GrooveboxMachine[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const m = await pool.createMachine({ ffi, code });
    await m.init(env);
    ready.push(performance.now() - t0);
    await m.enter("load", "", 0, loadArgs);
    loaded.push(performance.now() - t0);
    live.push(m);
  }
  for (const m of live) await m.destroy();
  return { ready, loaded };
}
console.log("back-to-back sessions…");
await sleep(500); // every worker back to its spares
const burst = await backToBack(40);

// The same burst while a live session taps every 2 ms: refilling spares must not stall its taps.
console.log("taps during a burst of sessions…");
await sleep(500);
let bursting = true;
const churned = backToBack(40).finally(() => {
  bursting = false;
});
const churnTaps: number[] = [];
while (bursting) {
  churnTaps.push(await time(() => tapM.enter("invoke3", "", 0, tapArgs)));
  await sleep(2);
}
const burstWithTaps = await churned;
console.log(`${churnTaps.length} taps during the burst`);
await tapM.destroy();

// memory per idle VM (RSS growth over 40 idle loaded VMs)
const idleCount = 40;
global.gc?.();
const rss0 = process.memoryUsage().rss;
const idle = [];
for (let i = 0; i < idleCount; i++) {
  const m = await pool.createMachine({ ffi, code });
  await m.init(env);
  await m.enter("load", "", 0, loadArgs);
  idle.push(m);
}
const mib = 1024 * 1024;
const perVm = (process.memoryUsage().rss - rss0) / idleCount / mib;
const linear = (await idle[0]!.memoryBytes()) / mib;
for (const m of idle) await m.destroy();

console.log("throughput…");
const concurrent = 50;
const rounds = 5;
const vms: GrooveboxMachine[] = [];
const rawVms: GrooveboxVM[] = [];
for (let i = 0; i < concurrent; i++) {
  const m = await pool.createMachine({ ffi, code });
  await m.init(env);
  vms.push(m);
  const vm = rawLinked();
  rawDrive(vm, vm.init(rawEnv));
  rawVms.push(vm);
}
const tpT = await time(() =>
  Promise.all(
    vms.map(async (m) => {
      for (let r = 0; r < rounds; r++) {
        await m.enter("load", "", 0, loadArgs);
        await m.enter("invoke3", "", 0, tapArgs);
      }
    }),
  ),
);
const ours = (concurrent * rounds) / (tpT / 1000);
const rawTpT = await time(() => {
  for (let r = 0; r < rounds; r++)
    for (const vm of rawVms) {
      rawLoad(vm);
      rawTap(vm);
    }
});
const raw = (concurrent * rounds) / (rawTpT / 1000);
for (const m of vms) await m.destroy();
await pool.close();

row("Groovebox instantiate + prepare (p50)", pct(inst.ours, 0.5), pct(inst.raw, 0.5));
row("bare WebAssembly.instantiate (p50)", pct(bareInst, 0.5), undefined);
row("create→init→load, cold (p50)", pct(cold.ours, 0.5), pct(cold.raw, 0.5));
row("pooled session ready: create→init (p50)", pct(readyOurs, 0.5), pct(readyRaw, 0.5));
row("pooled create→init→load (p50)", pct(pooledOurs, 0.5), pct(pooledRaw, 0.5));
row("pooled create→init→load vs raw cold (p50)", pct(pooledOurs, 0.5), pct(cold.raw, 0.5));
row("back-to-back create→init, 40 in a row (p50)", pct(burst.ready, 0.5), pct(readyRaw, 0.5));
row("back-to-back create→init, 40 in a row (p90)", pct(burst.ready, 0.9), pct(readyRaw, 0.9));
row("back-to-back create→init→load (p50)", pct(burst.loaded, 0.5), pct(pooledRaw, 0.5));
row("back-to-back create→init→load (p90)", pct(burst.loaded, 0.9), pct(pooledRaw, 0.9));
row("back-to-back vs paced create→init→load (p50)", pct(burst.loaded, 0.5), pct(pooledOurs, 0.5));
row("tap p50", pct(taps.ours, 0.5), pct(taps.raw, 0.5));
row("tap p99", pct(taps.ours, 0.99), pct(taps.raw, 0.99));
row("tap p50 during a burst of sessions", pct(churnTaps, 0.5), pct(taps.raw, 0.5));
row("tap p99 during a burst of sessions", pct(churnTaps, 0.99), pct(taps.raw, 0.99));
row(
  "burst create→init→load with a tapping session (p50)",
  pct(burstWithTaps.loaded, 0.5),
  pct(pooledRaw, 0.5),
);
row("resident memory per idle VM (RSS growth)", perVm, undefined, "MiB");
row("linear memory per idle VM", linear, undefined, "MiB");
row("load+tap throughput, 50 VMs (per s)", ours, raw, "/s");
console.log("\n| measure | ours (pool + workers) | raw in-process | ratio |\n| --- | --- | --- | --- |");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
