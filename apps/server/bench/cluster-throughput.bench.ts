/**
 * One node vs three (issue 13): the same request mix, at the same concurrency, against
 *   - 1 node, embedded (LMDB, no other service): the reference;
 *   - 1 node on PostgreSQL + Redis (--database-url, --redis-url);
 *   - 3 nodes on PostgreSQL + Redis, requests spread over them round robin (a load balancer
 *     without stickiness: 2 of 3 taps reach a node that does not hold the session, and are relayed).
 * Every node is a real `node dist/bin.js` process with the real Groovebox (as test/cluster.test.ts);
 * PostgreSQL and redis-server are started here on temp dirs and free ports. The mix, in turn:
 * a document create (`POST /{app}`), a point read (`GET /{app}/documents/{id}.json`), an
 * indexed-type `query.json` (20 of 200 seeded documents), and a tap (`msg_view_invoke`) on the
 * worker's own session. The load comes from this process (fetch, keep-alive).
 * Run: pnpm --filter amp bench:cluster   (BENCH_SECONDS=10 BENCH_CONCURRENCY=24)
 */
import { loadavg } from "node:os";
import { join } from "node:path";
import {
  remixArtifactsFor,
  sessionCreate,
  startPostgres,
  startRedis,
  type TestPostgres,
  type TestRedis,
  viewInvoke,
  viewLoad,
} from "@amp/test-support";
import type { TrackResponse } from "@amp/track";
import buildOnce from "../test/helpers/build-once.js";
import { type AmpNodes, importRemix, startAmpNodes } from "../test/helpers/cluster.js";
import { firstButtonTap, homeView } from "../test/helpers/home-tap.js";
import type { ServerProcess } from "../test/helpers/server-process.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = 2;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 24);
const APP = "tim-wasm";
const SEEDED = 200;
const QUERY = encodeURIComponent('_rmx_type == "bench_seed" && bucket == "b3"'); // 20 of 200
const OPS = ["create", "read", "query", "tap"] as const;
type Op = (typeof OPS)[number];

interface Setup {
  name: string;
  nodes: number;
  shared: boolean;
}
const SETUPS: Setup[] = [
  { name: "1 node, embedded (LMDB)", nodes: 1, shared: false },
  { name: "1 node, PostgreSQL + Redis", nodes: 1, shared: true },
  { name: "3 nodes, PostgreSQL + Redis", nodes: 3, shared: true },
];

interface Result {
  setup: Setup;
  rps: number;
  p50: number;
  p99: number;
  byOp: Record<Op, number>;
  /** Failed requests by `<op> <status or Track error code>`. */
  failed: Record<string, number>;
  load: number;
}

const artifacts = remixArtifactsFor("cluster throughput bench");
if (!artifacts) process.exit(1);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

async function call(node: ServerProcess, token: string, path: string, body?: unknown): Promise<Response> {
  return fetch(node.url(path), {
    method: body === undefined ? "GET" : "POST",
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** The app, its seeded documents (through the first node) and the moment every node serves them. */
async function prepare(nodes: ServerProcess[], root: string): Promise<void> {
  await importRemix(nodes[0]!, root, join(artifacts!.samples, `${APP}.remix`));
  for (let i = 0; i < SEEDED; i++) {
    const doc = { _rmx_id: `seed-${i}`, _rmx_type: "bench_seed", bucket: `b${i % 10}`, n: i };
    const res = await call(nodes[0]!, root, `/${APP}`, doc);
    if (res.status !== 201) throw new Error(`seeding: ${res.status} ${await res.text()}`);
  }
  for (const node of nodes) {
    for (const until = Date.now() + 10_000; ; ) {
      const res = await call(node, root, `/${APP}/query.json?query=${QUERY}`);
      const rows = res.status === 200 ? ((await res.json()) as unknown[]) : [];
      if (rows.length === 20) break;
      if (Date.now() > until) throw new Error(`${node.url("")} does not serve the seeded documents`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** One worker's session (created on its first node) and the tap its home view offers. */
async function openSession(node: ServerProcess, root: string) {
  const track = async (type: string, body: Record<string, unknown>) =>
    (await (await call(node, root, `/${APP}/track/${type}`, body)).json()) as TrackResponse;
  const created = await track("msg_session_create", sessionCreate());
  if (created.errors) throw new Error(`session: ${JSON.stringify(created.errors)}`);
  const loaded = await track("msg_view_load", viewLoad(created.session, "home"));
  return viewInvoke(created.session, firstButtonTap(homeView(loaded)));
}

/** Drives the mix with CONCURRENCY workers for `seconds`; requests go to the nodes round robin. */
async function drive(
  nodes: ServerProcess[],
  root: string,
  taps: Record<string, unknown>[],
  phase: "warmup" | "measured",
) {
  const seconds = phase === "warmup" ? WARMUP_SECONDS : SECONDS;
  const latencies: Record<Op, number[]> = { create: [], read: [], query: [], tap: [] };
  let next = 0;
  const failed: Record<string, number> = {};
  let created = 0;
  const until = performance.now() + seconds * 1000;
  const worker = async (w: number) => {
    for (let i = 0; performance.now() < until; i++) {
      const op = OPS[(w + i) % OPS.length]!;
      const node = nodes[next++ % nodes.length]!;
      const started = performance.now();
      const res =
        op === "create"
          ? await call(node, root, `/${APP}`, {
              _rmx_id: `${phase}-${created++}`,
              _rmx_type: "bench_write",
              worker: w,
            })
          : op === "read"
            ? await call(node, root, `/${APP}/documents/seed-${(w * 31 + i) % SEEDED}.json`)
            : op === "query"
              ? await call(node, root, `/${APP}/query.json?query=${QUERY}`)
              : await call(node, root, `/${APP}/track/msg_view_invoke`, taps[w]);
      const text = await res.text();
      const error = op === "tap" && res.ok ? (JSON.parse(text) as TrackResponse).errors : undefined;
      if (res.ok && !error) latencies[op].push(performance.now() - started);
      else {
        const why = `${op} ${error ? (error as { code: string }).code : `${res.status} ${/"code":"([^"]{1,40})"/.exec(text)?.[1] ?? ""}`}`;
        failed[why] = (failed[why] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  return { latencies, failed };
}

async function measure(setup: Setup, postgres: TestPostgres, index: number): Promise<Result> {
  let redis: TestRedis | undefined;
  let amp: AmpNodes | undefined;
  try {
    const env: Record<string, string> = { RMX_ROOT_USER: "root", RMX_BASE_URL: "http://amp.test" };
    if (setup.shared) {
      redis = await startRedis();
      env.RMX_DATABASE_URL = await postgres.createDatabase(`bench_${index}`);
    }
    const redisUrl = redis?.url;
    amp = await startAmpNodes({
      count: setup.nodes,
      env,
      args: (name) => [
        "--groovebox",
        artifacts!.groovebox,
        ...(redisUrl ? ["--redis-url", redisUrl, "--node-id", `node-${name}`] : []),
      ],
    });
    const root = amp.tokens.root!;
    await prepare(amp.nodes, root);
    const taps = await Promise.all(
      Array.from({ length: CONCURRENCY }, (_, w) => openSession(amp!.nodes[w % amp!.nodes.length]!, root)),
    );
    await drive(amp.nodes, root, taps, "warmup");
    const { latencies, failed } = await drive(amp.nodes, root, taps, "measured");
    const all = Object.values(latencies)
      .flat()
      .sort((a, b) => a - b);
    const p50 = (op: Op) =>
      percentile(
        [...latencies[op]].sort((a, b) => a - b),
        50,
      );
    return {
      setup,
      rps: Math.round(all.length / SECONDS),
      p50: percentile(all, 50),
      p99: percentile(all, 99),
      byOp: { create: p50("create"), read: p50("read"), query: p50("query"), tap: p50("tap") },
      failed,
      load: loadavg()[0]!,
    };
  } finally {
    await amp?.close();
    await redis?.stop();
  }
}

buildOnce();
const postgres = await startPostgres();
const results: Result[] = [];
try {
  for (const [i, setup] of SETUPS.entries()) {
    console.log(`${setup.name}: ${SECONDS} s at concurrency ${CONCURRENCY}…`);
    results.push(await measure(setup, postgres, i));
  }
} finally {
  await postgres.stop();
}

const ms = (v: number) => v.toFixed(1);
const ratio = (v: number, of: number) => `${(v / of).toFixed(2)}×`;
const base = results[0]!;
console.log(
  `\n| setup | req/s | p50 ms | p99 ms | req/s vs embedded | p50 vs embedded | p99 vs embedded | p50 create / read / query / tap ms | failed | load avg |`,
);
console.log("| --- | --: | --: | --: | --: | --: | --: | --- | --: | --: |");
for (const r of results) {
  const ops = OPS.map((op) => ms(r.byOp[op])).join(" / ");
  console.log(
    `| ${r.setup.name} | ${r.rps} | ${ms(r.p50)} | ${ms(r.p99)} | ${ratio(r.rps, base.rps)} | ${ratio(r.p50, base.p50)} | ${ratio(r.p99, base.p99)} | ${ops} | ${Object.values(r.failed).reduce((a, b) => a + b, 0)} | ${r.load.toFixed(1)} |`,
  );
}
for (const r of results) {
  for (const [why, count] of Object.entries(r.failed)) console.log(`${r.setup.name}: ${count} × ${why}`);
}
