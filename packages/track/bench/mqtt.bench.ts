/**
 * Tap round trips through the MQTT mode (Remix's runtime in vm-init="server:mqtt": messages on
 * `…/vm/<machine>/initiate`, answers on `…/output`, MQTT over `/x/broker.ws`) beside the track
 * WebSocket, on the same sessions in the same run: each session is created with `machine: "server"`
 * and every round taps it once over each transport, alternating which goes first (a session
 * follows the transport that last spoke to it). Groovebox (tim-wasm) when the public artifacts are
 * found, native backend otherwise. Clients, broker and server share this process.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GrooveboxPool } from "@amp/machine";
import { findRemixArtifacts, viewInvoke, viewLoad } from "@amp/test-support";
import { buildRemix, firstTap, type Stack, startStack, TrackClient } from "../test/helpers.js";
import { createOverHttp, MqttHub, startMqttSide, VmOwners } from "../test/mqtt-hub.js";

const artifacts = findRemixArtifacts();
const real = artifacts !== undefined;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const ms = (x: number) => `${x.toFixed(3)} ms`;
const WARMUP = Number(process.env.AMP_BENCH_WARMUP ?? 1500);
const TAPS = Number(process.env.AMP_BENCH_TAPS ?? 2000);

async function main() {
  const pool = real ? await GrooveboxPool.open({ groovebox: artifacts!.groovebox, workers: 2 }) : undefined;
  const app = real ? "tim-wasm" : "tim-native";
  const remix = real
    ? new Uint8Array(readFileSync(join(artifacts!.samples, "tim-wasm.remix")))
    : buildRemix("tim-native", new TextEncoder().encode("tim-native"));
  const vmOwners = new VmOwners();
  const stack: Stack = await startStack({
    pool,
    remix: [remix],
    manager: { vmOwners, maxSessionsPerUser: 200 },
  });
  await stack.apps.setRules({ id: "root", anonymous: false, root: true }, app, { allowed_run: ["alice"] });
  const side = await startMqttSide(stack, vmOwners);
  const token = await stack.token("alice");
  console.log(`backend: ${real ? "Groovebox (tim-wasm)" : "native (tim-native)"}; MQTT over ${side.wsUrl}`);

  for (const n of [1, 10]) {
    const sessions = await Promise.all(
      Array.from({ length: n }, async () => {
        const created = await createOverHttp(stack, app, token, "server");
        const hub = await MqttHub.open({
          url: side.wsUrl,
          user: "alice",
          token,
          org: "testorg",
          workspace: "testws",
          machine: created.machine,
        });
        const ws = await TrackClient.open(stack.url, app, token);
        const load = await hub.request(viewLoad(created.session, "home"));
        const view = load.pushed
          .flatMap((m) => m.cellMessages)
          .filter((c) => c.name === "home.view")
          .at(-1)!.value;
        const ontap = firstTap(view);
        const tap = viewInvoke(created.session, ontap);
        return { session: created.session, hub, ws, tap };
      }),
    );
    const run = async (total: number) => {
      const mqtt: number[] = [];
      const ws: number[] = [];
      const rounds = Math.max(3, Math.floor(total / n));
      await Promise.all(
        sessions.map(async (s) => {
          for (let i = 0; i < rounds; i++) {
            const order = i % 2 === 0 ? (["mqtt", "ws"] as const) : (["ws", "mqtt"] as const);
            for (const via of order) {
              const t = performance.now();
              const { response, pushed } =
                via === "mqtt" ? await s.hub.request(s.tap) : await s.ws.request(s.tap);
              const took = performance.now() - t;
              if (response.errors || !pushed.some((p) => p.cellMessages[0]?.name === "$nextActions")) {
                throw new Error(`tap over ${via} failed: ${JSON.stringify(response.errors ?? pushed)}`);
              }
              (via === "mqtt" ? mqtt : ws).push(took);
            }
            s.hub.received.length = 0;
          }
        }),
      );
      return { mqtt, ws };
    };
    await run(WARMUP); // V8 tiers both paths up over the first thousands of taps
    const { mqtt, ws } = await run(TAPS);
    const ratio = pct(mqtt, 0.5) / pct(ws, 0.5);
    console.log(
      `tap round trip, ${n} session${n > 1 ? "s" : ""}: MQTT p50 ${ms(pct(mqtt, 0.5))} p99 ${ms(pct(mqtt, 0.99))} | WebSocket p50 ${ms(pct(ws, 0.5))} p99 ${ms(pct(ws, 0.99))} | MQTT/WS p50 ${ratio.toFixed(2)}× (${mqtt.length} + ${ws.length} taps)`,
    );
    for (const s of sessions) {
      await s.ws.request({ _rmx_type: "msg_session_destroy", session: s.session });
      s.ws.close();
      await s.hub.close();
    }
  }
  await side.close();
  await stack.close();
  await pool?.close();
}

await main();
