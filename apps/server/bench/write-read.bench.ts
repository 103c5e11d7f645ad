/**
 * The write and read paths of the composed server (issue 12, item 2), each beside a bare Hono
 * JSON route on @hono/node-server in the same process and the same run:
 *   - creates: `POST /{app}` with one JSON document;
 *   - `GET /{app}/query.json?query=…` answered 304 via `If-None-Match`;
 *   - the indexed `query.json` 200 (100 of 10k documents).
 * The whole amp composition (every package, real stores, info-level request log to /dev/null)
 * runs here with real tokens (`amp token`'s Ed25519 tokens); autocannon runs in its own process.
 * Run: pnpm --filter amp bench   (BENCH_SECONDS=3 BENCH_ROUNDS=3 BENCH_CONNECTIONS=50)
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createOperatorToken } from "@amp/auth";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { pino } from "pino";
import { composeAmp } from "../src/compose/compose.js";
import { createServer, serverConfig } from "../src/index.js";
import { createLogger } from "../src/logging/logger.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const AUTOCANNON = fileURLToPath(new URL("../node_modules/.bin/autocannon", import.meta.url));
const APP = "bench";
const DOCS = 10_000;
const QUERY = 'category == "c7"'; // indexed, 100 of 10k
/** BENCH_ONLY=create,304,200 runs a subset (each still beside its bare route). */
const ONLY = new Set((process.env.BENCH_ONLY ?? "create,304,200").split(","));
const SKIPPED: Load = { rps: Number.NaN, cpuUs: Number.NaN, ok: 1, other: 0 };

interface Load {
  rps: number;
  /** CPU time of this process (every thread) per answered request, µs. */
  cpuUs: number;
  ok: number;
  other: number;
}

/** autocannon in its own process, so the load generator does not share the server's event loop. */
async function load(
  url: string,
  opts: { method?: string; body?: string; headers?: Record<string, string>; idReplacement?: boolean } = {},
): Promise<Load> {
  const args = ["-c", String(CONNECTIONS), "-d", String(SECONDS), "-j"];
  if (opts.method) args.push("-m", opts.method);
  if (opts.body) args.push("-b", opts.body);
  if (opts.idReplacement) args.push("-I");
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push("-H", `${k}=${v}`);
  const cpu = process.cpuUsage();
  const out = await new Promise<string>((resolve, reject) => {
    execFile(AUTOCANNON, [...args, url], { maxBuffer: 10 * 1024 * 1024 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
  });
  const r = JSON.parse(out) as {
    requests: { average: number };
    "2xx": number;
    "3xx"?: number;
    non2xx: number;
  };
  const used = process.cpuUsage(cpu);
  const total = r["2xx"] + r.non2xx;
  return {
    rps: Math.round(r.requests.average),
    cpuUs: Math.round((used.user + used.system) / Math.max(1, total)),
    ok: r["2xx"] + (r["3xx"] ?? 0),
    other: r.non2xx - (r["3xx"] ?? 0),
  };
}

/** BENCH_PROFILE=<dir>: a CPU profile of the main thread during each amp load (not the bare ones). */
const PROFILE_DIR = process.env.BENCH_PROFILE;
async function profiled<T>(name: string, run: () => Promise<T>): Promise<T> {
  if (!PROFILE_DIR) return run();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  try {
    return await run();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(join(PROFILE_DIR, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const fmt = (n: number) => n.toLocaleString("en-US");

async function main() {
  // --- the bare peer: a Hono JSON route on @hono/node-server, in this process ---
  const bareBody = { seq: 1, documents: [{ _rmx_id: "x".repeat(32), _rmx_type: "note", title: "hello" }] };
  const bare = new Hono();
  let bareRows: unknown[] = [];
  bare.get("/bare", (c) => c.json(bareBody));
  // The same documents the indexed query answers, as JSON: the same bytes, without amp.
  bare.get("/bare/rows", (c) => c.json(bareRows));
  bare.post("/bare", async (c) => c.json({ ...bareBody, got: await c.req.json() }, 201));
  const bareServer = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: bare.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const bareAddr = bareServer.address();
  const bareUrl = `http://127.0.0.1:${typeof bareAddr === "object" && bareAddr ? bareAddr.port : 0}/bare`;

  // --- the composed server, as `amp` runs it (info-level request log, to /dev/null) ---
  const dataDir = mkdtempSync(join(tmpdir(), "amp-bench-wr-"));
  const config = serverConfig({
    port: 0,
    adminPort: 0,
    brokerPort: 0,
    databaseDir: dataDir,
    compiler: false,
    baseURL: "http://amp.test",
    rootUser: "root",
  });
  const logger = createLogger({
    level: "info",
    destination: pino.destination({ dest: "/dev/null", sync: false }),
  });
  const server = createServer(config, { logger, ...composeAmp(config, logger) });
  await server.start();
  const base = `http://127.0.0.1:${server.addresses!.http.port}`;
  const token = await createOperatorToken({ databaseDir: dataDir, user: "root" });
  const auth = { authorization: `Bearer ${token}` };
  const json = { ...auth, "content-type": "application/json" };

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, { method: "POST", headers: json, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res;
  };
  await post("/x/apps", { name: APP, indexedFields: ["category"] });
  for (let i = 0; i < DOCS; i += 1000) {
    const batch = Array.from({ length: 1000 }, (_, k) => ({
      _rmx_type: "note",
      category: `c${(i + k) % 100}`,
      title: `Document number ${i + k}`,
      n: i + k,
    }));
    await post(`/${APP}`, batch);
  }
  const queryUrl = `${base}/${APP}/query.json?query=${encodeURIComponent(QUERY)}`;
  // The same 100 documents through the same index, the residual test never false: a new text each time.
  const missUrl = `${base}/${APP}/query.json?query=${encodeURIComponent(`${QUERY} && title != "`)}[<id>]${encodeURIComponent('"')}`;
  const first = await fetch(queryUrl, { headers: auth });
  const rows = (await first.json()) as unknown[];
  const etag = first.headers.get("etag")!;
  bareRows = rows;
  if (rows.length !== 100 || !etag) throw new Error(`indexed query: ${rows.length} rows, etag ${etag}`);
  // Creates change the sequence (and the ETag): the 304 and 200 runs go first in each round,
  // the creates go to a second app so that the query app keeps its 10k documents.
  await post("/x/apps", { name: `${APP}_w`, indexedFields: ["category"] });
  const doc = JSON.stringify({ _rmx_type: "note", category: "c1", title: "a new note", n: 1, done: false });

  console.log(
    `[bench] composed amp vs bare Hono, autocannon (own process) -c ${CONNECTIONS} -d ${SECONDS}, ${ROUNDS} rounds, real Ed25519 token`,
  );
  const ratios = {
    create: [] as number[],
    r304: [] as number[],
    r200: [] as number[],
    r200miss: [] as number[],
  };
  const rps = {
    bareGet: [] as number[],
    bareRows: [] as number[],
    barePost: [] as number[],
    create: [] as number[],
    r304: [] as number[],
    r200: [] as number[],
    r200miss: [] as number[],
  };
  for (let round = 1; round <= ROUNDS; round++) {
    const reads = ONLY.has("304") || ONLY.has("200");
    const bg = reads ? await load(bareUrl) : SKIPPED;
    const r304 = ONLY.has("304")
      ? await profiled("304", () => load(queryUrl, { headers: { ...auth, "if-none-match": etag } }))
      : SKIPPED;
    const bg200 = ONLY.has("200") ? await load(`${bareUrl}/rows`) : SKIPPED;
    const r200 = ONLY.has("200") ? await profiled("200", () => load(queryUrl, { headers: auth })) : SKIPPED;
    // Every request a new query text (autocannon's [<id>]), so none is answered from the answer cache.
    const r200miss = ONLY.has("200")
      ? await profiled("200-miss", () => load(missUrl, { headers: auth, idReplacement: true }))
      : SKIPPED;
    const writes = ONLY.has("create");
    const bp = writes
      ? await load(bareUrl, { method: "POST", body: doc, headers: { "content-type": "application/json" } })
      : SKIPPED;
    const create = writes
      ? await profiled("create", () => load(`${base}/${APP}_w`, { method: "POST", body: doc, headers: json }))
      : SKIPPED;
    for (const [name, r] of Object.entries({ bg, r304, bg200, r200, r200miss, bp, create })) {
      if (r.other > 0 || r.ok === 0)
        console.log(`[bench] round ${round} ${name}: ${r.other} unexpected answers`);
    }
    rps.bareGet.push(bg.rps);
    rps.barePost.push(bp.rps);
    rps.bareRows.push(bg200.rps);
    rps.create.push(create.rps);
    rps.r304.push(r304.rps);
    rps.r200.push(r200.rps);
    rps.r200miss.push(r200miss.rps);
    ratios.create.push(create.rps / bp.rps);
    ratios.r304.push(r304.rps / bg.rps);
    ratios.r200.push(r200.rps / bg200.rps);
    ratios.r200miss.push(r200miss.rps / bg200.rps);
    console.log(
      `[bench] round ${round}: bare GET ${fmt(bg.rps)} (${bg.cpuUs} µs CPU each), bare POST ${fmt(bp.rps)} (${bp.cpuUs} µs) | ` +
        `creates ${fmt(create.rps)} (${Math.round((100 * create.rps) / bp.rps)}%, ${create.cpuUs} µs), ` +
        `304 ${fmt(r304.rps)} (${Math.round((100 * r304.rps) / bg.rps)}%, ${r304.cpuUs} µs), ` +
        `bare rows ${fmt(bg200.rps)} (${bg200.cpuUs} µs), indexed 200 ${fmt(r200.rps)} (${Math.round((100 * r200.rps) / bg200.rps)}%, ${r200.cpuUs} µs), ` +
        `uncached ${fmt(r200miss.rps)} (${Math.round((100 * r200miss.rps) / bg200.rps)}%, ${r200miss.cpuUs} µs)`,
    );
  }
  const pct = (xs: number[]) =>
    `${Math.round(100 * median(xs))}% (${xs.map((x) => Math.round(100 * x)).join(", ")})`;
  console.log("[bench] medians (req/s; ratio to bare: median (rounds)):");
  console.log(`  bare GET /bare                          ${fmt(median(rps.bareGet))}`);
  console.log(`  bare GET /bare/rows (the 200's 100 docs) ${fmt(median(rps.bareRows))}`);
  console.log(`  bare POST /bare                         ${fmt(median(rps.barePost))}`);
  console.log(
    `  creates  POST /${APP}_w             ${fmt(median(rps.create))}  ${pct(ratios.create)}  target >= 30%`,
  );
  console.log(
    `  query.json 304                          ${fmt(median(rps.r304))}  ${pct(ratios.r304)}  target >= 70%`,
  );
  console.log(
    `  query.json 200, indexed 100 of 10k     ${fmt(median(rps.r200))}  ${pct(ratios.r200)}  target >= 30%`,
  );
  console.log(
    `  the same, a new query text each time   ${fmt(median(rps.r200miss))}  ${pct(ratios.r200miss)}  (answer cache missed)`,
  );

  await server.terminate();
  bareServer.close();
  rmSync(dataDir, { recursive: true, force: true });
}

await main();
