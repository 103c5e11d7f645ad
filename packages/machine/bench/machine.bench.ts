/**
 * @amp/machine benchmarks, side by side with the raw limit: the same Groovebox
 * instantiated directly with WebAssembly.instantiate and driven in-process (no pool,
 * no worker, no codec round trip on the main thread).
 *
 *   AMP_GROOVEBOX_WASM=… AMP_REMIX_SAMPLES=… pnpm --filter @amp/machine bench
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeRmx } from "@amp/codec";
import { unzipSync } from "fflate";
import { GrooveboxVM } from "../src/groovebox/vm.js";
import { wasiImports } from "../src/groovebox/wasi.js";
import { FfiRegistry, GrooveboxPool, type InitEnv, standardHooks } from "../src/index.js";

const wasmPath = process.env.AMP_GROOVEBOX_WASM;
const samples = process.env.AMP_REMIX_SAMPLES;
if (!wasmPath || !samples) {
  console.log("skipped: set AMP_GROOVEBOX_WASM and AMP_REMIX_SAMPLES");
  process.exit(0);
}
const gbBytes = new Uint8Array(readFileSync(wasmPath));
const zip = unzipSync(new Uint8Array(readFileSync(join(samples, "tim-wasm.remix"))));
const app = zip["apps/tim-wasm/libraries/executable_cross.WASM"]!;
const env: InitEnv = {
  org: "o",
  workspace: "w",
  app: "tim-wasm",
  user: "u",
  token: "t",
  baseURL: "http://127.0.0.1/",
};
const loadArgs = ["home", [{}, { type: "start" }]];
const tapArgs = ["home.$closure_0efd_19", "$cloenv_ap_0", null, [], {}];

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

// ---- raw limit: direct WebAssembly.instantiate, in-process, our sync VM core only
console.log("raw: compiling…");
const gbModule = await WebAssembly.compile(gbBytes);
const appModule = await WebAssembly.compile(app);
const rawInst: number[] = [];
for (let i = 0; i < 20; i++) {
  rawInst.push(
    await time(() =>
      WebAssembly.instantiate(gbModule, wasiImports({ memory: undefined, onLine() {}, onClock() {} })),
    ),
  );
}
const opts = { timeoutMs: 10_000, memoryLimitBytes: 1 << 30, build: 867 };
const rawNull = encodeRmx(null);
function rawDrive(vm: GrooveboxVM, run: ReturnType<GrooveboxVM["run"]>) {
  while (run.stop.type === "ffi") run = vm.ffiReturn(run.stop.coroutine, rawNull);
}
const rawCold: number[] = [];
const rawTaps: number[] = [];
const rawVms: GrooveboxVM[] = [];
for (let i = 0; i < 20; i++) {
  let vm!: GrooveboxVM;
  rawCold.push(
    await time(() => {
      vm = GrooveboxVM.create(gbModule, opts);
      vm.addCode(0, appModule, "app");
      vm.linkCode(0, false);
      rawDrive(vm, vm.init(encodeRmx({ standalone: false, isMQTTEnabled: false, session: "", env: {} })));
      rawDrive(vm, vm.enter("load", "", 0, encodeRmx(loadArgs), false));
    }),
  );
  for (let t = 0; t < 20; t++)
    rawTaps.push(await time(() => rawDrive(vm, vm.enter("invoke3", "", 0, encodeRmx(tapArgs), false))));
  rawVms.push(vm);
}

// ---- ours: pool of worker threads
console.log("ours: opening the pool…");
const ffi = new FfiRegistry().registerAll(standardHooks());
const pool = await GrooveboxPool.open({ groovebox: gbBytes });
const code = [{ codeID: 0, bytes: app }];
const instOurs: number[] = [];
for (let i = 0; i < 20; i++)
  instOurs.push(await time(async () => (await pool.createMachine({ ffi })).destroy()));
const cold: number[] = [];
for (let i = 0; i < 20; i++) {
  cold.push(
    await time(async () => {
      const m = await pool.createMachine({ ffi, code });
      await m.init(env);
      await m.enter("load", "", 0, loadArgs);
      await m.destroy();
    }),
  );
}
await pool.warm(code, 4);
await new Promise((r) => setTimeout(r, 1000)); // let the workers refill
const ready: number[] = [];
const pooledLoad: number[] = [];
for (let i = 0; i < 30; i++) {
  const t0 = performance.now();
  const m = await pool.createMachine({ ffi, code });
  await m.init(env);
  ready.push(performance.now() - t0);
  await m.enter("load", "", 0, loadArgs);
  pooledLoad.push(performance.now() - t0);
  await m.destroy();
  await new Promise((r) => setTimeout(r, 30)); // the refill runs between sessions, as in real traffic
}
const taps: number[] = [];
{
  const m = await pool.createMachine({ ffi, code });
  await m.init(env);
  await m.enter("load", "", 0, loadArgs);
  for (let t = 0; t < 400; t++) taps.push(await time(() => m.enter("invoke3", "", 0, tapArgs)));
  await m.destroy();
}

// memory per idle VM (RSS growth over 40 idle loaded VMs, both ways)
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

// throughput: 50 concurrent VMs doing load + tap
const concurrent = 50;
const vms = [];
for (let i = 0; i < concurrent; i++) {
  const m = await pool.createMachine({ ffi, code });
  await m.init(env);
  vms.push(m);
}
const rounds = 5;
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
      rawDrive(vm, vm.enter("load", "", 0, encodeRmx(loadArgs), false));
      rawDrive(vm, vm.enter("invoke3", "", 0, encodeRmx(tapArgs), false));
    }
});
const raw = (rawVms.length * rounds) / (rawTpT / 1000);
for (const m of vms) await m.destroy();
await pool.close();

row("Groovebox instantiate (p50)", pct(instOurs, 0.5), pct(rawInst, 0.5));
row("create→init→load, cold (p50)", pct(cold, 0.5), pct(rawCold, 0.5));
row("pooled session ready: create→init (p50)", pct(ready, 0.5), undefined);
row("pooled create→init→load (p50)", pct(pooledLoad, 0.5), pct(rawCold, 0.5));
row("tap p50", pct(taps, 0.5), pct(rawTaps, 0.5));
row("tap p99", pct(taps, 0.99), pct(rawTaps, 0.99));
row("resident memory per idle VM (RSS growth)", perVm, undefined, "MiB");
row("linear memory per idle VM", linear, undefined, "MiB");
row("load+tap throughput, 50 VMs (per s)", ours, raw, "/s");
console.log("\n| measure | ours (pool + workers) | raw in-process | ratio |\n| --- | --- | --- | --- |");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
