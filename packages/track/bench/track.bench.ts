/**
 * Track benchmarks in one run: session create+load over WebSocket vs the machine directly,
 * tap round trips with 1/10/100 sessions, agent invocations/s over HTTP, memory per idle session.
 * Groovebox figures when AMP_GROOVEBOX_WASM/AMP_REMIX_SAMPLES are set, native backend otherwise.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { FfiRegistry, GrooveboxPool, NativeMachine, standardHooks } from "@amp/machine";
import { findRemixArtifacts, viewInvoke, viewLoad } from "@amp/test-support";
import { unzipSync } from "fflate";
import { buildRemix, firstTap, nativeApp, type Stack, startStack, TrackClient } from "../test/helpers.js";

const artifacts = findRemixArtifacts();
const GB = artifacts?.groovebox;
const SAMPLES = artifacts?.samples;
const real = artifacts !== undefined;

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const ms = (x: number) => `${x.toFixed(2)} ms`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

async function main() {
  const pool = real ? await GrooveboxPool.open({ groovebox: GB!, workers: 2 }) : undefined;
  const exe = real
    ? new Uint8Array(readFileSync(join(SAMPLES!, "tim-wasm.remix")))
    : buildRemix("tim-native", new TextEncoder().encode("tim-native"));
  const app = real ? "tim-wasm" : "tim-native";
  const stack: Stack = await startStack({
    pool,
    remix: [exe, buildRemix("agentapp", new TextEncoder().encode("tim-native"))],
    manager: { maxSessionsPerUser: 2000, maxSessions: 5000 },
  });
  const rootUser = { id: "root", anonymous: false, root: true };
  await stack.apps.setRules(rootUser, app, { allowed_run: ["alice"] });
  await stack.apps.setRules(rootUser, "agentapp", { allowed_agents: ["alice"] });
  const token = await stack.token("alice");
  console.log(`backend: ${real ? "Groovebox (tim-wasm)" : "native (tim-native)"}`);

  // 1. Session create + load over WS vs machine-level (same backend, no network, no protocol).
  //    Back to back (each session right after the previous one: spares are rebuilt only after
  //    10 ms without requests) and paced (30 ms apart, as sessions of different users arrive).
  const client = await TrackClient.open(stack.url, app, token);
  const code = real ? [{ codeID: 0, bytes: appCodeOf(exe) }] : [];
  const ffi = new FfiRegistry().registerAll(standardHooks());
  const wsCreateLoad = async () => {
    const t = performance.now();
    const { response } = await client.request({ _rmx_type: "msg_session_create", searchExe: true });
    await client.request(viewLoad(response.session, "home"));
    const took = performance.now() - t;
    await client.request({ _rmx_type: "msg_session_destroy", session: response.session });
    return took;
  };
  const machineCreateLoad = async () => {
    const t = performance.now();
    const m = real ? await pool!.createMachine({ ffi, code }) : await nativeMachine(ffi);
    await m.init({ org: "o", workspace: "w", app, user: "alice", token: "t", baseURL: "http://x/" });
    await m.enter("load", "", 0, ["home", [{}, { type: "start" }]]);
    const took = performance.now() - t;
    await m.destroy();
    return took;
  };
  for (let i = 0; i < 10; i++) await wsCreateLoad(); // warm-up (and the app's spares)
  for (const pause of [0, 30]) {
    const wsTimes: number[] = [];
    const machineTimes: number[] = [];
    for (let i = 0; i < 40; i++) {
      // Interleaved, so both sides see the same load on this shared machine.
      wsTimes.push(await wsCreateLoad());
      if (pause) await sleep(pause);
      machineTimes.push(await machineCreateLoad());
      if (pause) await sleep(pause);
    }
    console.log(
      `session create+load (${pause ? `paced ${pause} ms` : "back to back"})  WS p50 ${ms(pct(wsTimes, 0.5))} p99 ${ms(pct(wsTimes, 0.99))} | machine p50 ${ms(pct(machineTimes, 0.5))} p99 ${ms(pct(machineTimes, 0.99))} | ratio p50 ${(pct(wsTimes, 0.5) / pct(machineTimes, 0.5)).toFixed(2)}×`,
    );
  }

  // 2. Tap round trip over WS with 1, 10, 100 concurrent sessions.
  for (const n of [1, 10, 100]) {
    const clients = await Promise.all(
      Array.from({ length: n }, async () => {
        const c = await TrackClient.open(stack.url, app, token);
        const { response } = await c.request({ _rmx_type: "msg_session_create", searchExe: true });
        const load = await c.request(viewLoad(response.session, "home"));
        const view = load.pushed
          .flatMap((m) => m.cellMessages)
          .filter((x) => x.name === "home.view")
          .at(-1)!.value;
        const ontap = firstTap(view);
        return { c, session: response.session, ontap };
      }),
    );
    const taps = async (total: number) => {
      const times: number[] = [];
      const rounds = Math.max(3, Math.floor(total / n));
      await Promise.all(
        clients.map(async ({ c, session, ontap }) => {
          for (let i = 0; i < rounds; i++) {
            const t = performance.now();
            await c.request(viewInvoke(session, ontap));
            times.push(performance.now() - t);
          }
        }),
      );
      return times;
    };
    // Warm-up: V8 keeps tiering the tap path up (both sides of the socket, and the VM's Wasm in
    // the workers) for the first few thousand taps.
    await taps(n === 1 ? 3000 : 1000);
    const times = await taps(2000);
    console.log(
      `tap round trip, ${n} sessions: p50 ${ms(pct(times, 0.5))} p99 ${ms(pct(times, 0.99))} (${times.length} taps)`,
    );
    for (const { c, session } of clients) {
      await c.request({ _rmx_type: "msg_session_destroy", session });
      c.close();
    }
  }

  // 3. Agent invocations per second over HTTP (warm agent sessions), 8 concurrent callers.
  const end = Date.now() + 3000;
  let count = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (Date.now() < end) {
        const res = await fetch(`${stack.url}/agentapp/agents/echo`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: '{"x":1}',
        });
        await res.arrayBuffer();
        if (res.status === 201) count++;
      }
    }),
  );
  console.log(`agent invocations over HTTP: ${(count / 3).toFixed(0)} /s`);

  // 4. Memory per idle session (RSS growth over N sessions, includes the worker heaps).
  const n = real ? 100 : 500;
  const user = { id: "alice", anonymous: false, root: false, claims: {} };
  const gc = exposedGc();
  gc();
  const before = process.memoryUsage();
  const held = [];
  for (let i = 0; i < n; i++) held.push((await stack.sessions.create({ user, token, app })).session);
  gc();
  const after = process.memoryUsage();
  const per = (a: number, b: number) => ((a - b) / n / 1024 / 1024).toFixed(3);
  console.log(
    `memory per idle session (${n} sessions): RSS ${per(after.rss, before.rss)} MiB, JS heap ${per(after.heapUsed, before.heapUsed)} MiB${real ? " (RSS includes the worker threads' VMs)" : ""}`,
  );
  client.close();
  await stack.close();
  await pool?.close();
}

function appCodeOf(remix: Uint8Array): Uint8Array {
  const files = unzipSync(remix);
  return files[Object.keys(files).find((k) => k.endsWith("executable_cross.WASM"))!]!;
}

async function nativeMachine(ffi: FfiRegistry) {
  const m = new NativeMachine({ modules: [nativeApp], ffi });
  await m.sendCode(0, new TextEncoder().encode("tim-native"));
  await m.linkCode(0);
  return m;
}

await main();

/** V8's full collection, without `--expose-gc` on the command line (tsx runs this file). */
function exposedGc(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}
