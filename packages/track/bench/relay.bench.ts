/**
 * Cluster overhead: a tap on a session relayed through Redis (client on node B, VM on node A)
 * beside the same tap sent to A directly, on the real Groovebox (tim-wasm), over a WebSocket and
 * over HTTP. One run; p50/p99 of each and the relayed − local difference and ratio.
 * Target (issue 13): relayed tap ≤ local + 1 ms at p50.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GrooveboxPool } from "@amp/machine";
import { findRemixArtifacts, sessionCreate, startRedis, viewInvoke, viewLoad } from "@amp/test-support";
import { firstTap, root, TrackClient } from "../test/helpers.js";
import { post, type RelayNode, startRelayNode } from "../test/relay-nodes.js";

const ROUNDS = 400;
const APP = "tim-wasm";
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const ms = (x: number) => `${x.toFixed(2)} ms`;
const signed = (x: number) => `${x < 0 ? "−" : "+"}${ms(Math.abs(x))}`;

async function main() {
  const artifacts = findRemixArtifacts();
  if (!artifacts) throw new Error("needs Remix's public build (AMP_GROOVEBOX_WASM, AMP_REMIX_SAMPLES)");
  const redis = await startRedis();
  const pool = await GrooveboxPool.open({ groovebox: artifacts.groovebox, workers: 1 });
  const remix = new Uint8Array(readFileSync(join(artifacts.samples, `${APP}.remix`)));
  const nodes: RelayNode[] = [];
  for (const id of ["node-a", "node-b"]) {
    const node = await startRelayNode(id, { redisUrl: redis.url, prefix: "bench:", pool, remix: [remix] });
    await node.stack.apps.setRules(root, APP, { allowed_run: ["alice"] });
    nodes.push(node);
  }
  const [a, b] = nodes as [RelayNode, RelayNode];
  try {
    const tokenA = await a.stack.token("alice");
    const tokenB = await b.stack.token("alice");
    const created = await post(a, APP, tokenA, "msg_session_create", sessionCreate());
    const session = created.session;
    const load = await post(a, APP, tokenA, "msg_view_load", viewLoad(session, "home"));
    const tap = viewInvoke(
      session,
      firstTap(load.cellMessages.filter((c) => c.name === "home.view").at(-1)!.value),
    );

    // WebSocket: the same session tapped from a socket on A (local) and one on B (relayed).
    const local = await TrackClient.open(a.stack.url, APP, tokenA);
    const relayed = await TrackClient.open(b.stack.url, APP, tokenB);
    const wsTap = async (client: TrackClient) => {
      const t = performance.now();
      const { response } = await client.request(tap);
      if (response.errors) throw new Error(response.errors.message);
      return performance.now() - t;
    };
    const httpTap = async (node: RelayNode, token: string) => {
      const t = performance.now();
      const r = await post(node, APP, token, "msg_view_invoke", tap);
      if (r.errors) throw new Error(r.errors.message);
      return performance.now() - t;
    };
    const compare = async (
      label: string,
      localTap: () => Promise<number>,
      relayedTap: () => Promise<number>,
    ) => {
      for (let i = 0; i < 50; i++) await Promise.all([localTap(), relayedTap()]); // warm-up
      const l: number[] = [];
      const r: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        // Interleaved, so both see the same load on this shared machine.
        l.push(await localTap());
        r.push(await relayedTap());
      }
      const [l50, r50, l99, r99] = [pct(l, 0.5), pct(r, 0.5), pct(l, 0.99), pct(r, 0.99)];
      console.log(
        `${label}: local p50 ${ms(l50)} p99 ${ms(l99)} | relayed p50 ${ms(r50)} p99 ${ms(r99)} | p50 ${signed(r50 - l50)} (${(r50 / l50).toFixed(2)}×), p99 ${signed(r99 - l99)}`,
      );
    };
    await compare(
      "tap over WebSocket",
      () => wsTap(local),
      () => wsTap(relayed),
    );
    await compare(
      "tap over HTTP     ",
      () => httpTap(a, tokenA),
      () => httpTap(b, tokenB),
    );
    local.close();
    relayed.close();
  } finally {
    for (const node of nodes.reverse()) await node.close();
    await pool.close();
    await redis.stop();
  }
}

await main();
