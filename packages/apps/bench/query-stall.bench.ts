/**
 * Does a scan stall the server? Taps (small point reads, `GET /{app}/documents/{id}.json`,
 * one at a time, 200/s) are timed from a client thread, first alone, then while a second
 * client thread repeats a query on an unindexed field over 10k documents
 * (`GET /{app}/query.json`, back to back, each a different text so none is a cached answer):
 *   - "worker": the shipped path, `DocumentStore.query` runs the scan on the query worker;
 *   - "inline": the same server with `query: {inlineBudget: Infinity}`, i.e. every query on
 *     the event loop, as before (the figure in issue 12);
 *   - "postgres": the same app on the PostgreSQL engine (a real server started here), taps
 *     alone and beside the scan (its rows come from the database in pages, decoded and
 *     filtered on the query worker), and "pg inline": the same with `inlineBudget: Infinity`
 *     (every page decoded and filtered on the event loop).
 * Rounds interleave the phases; the ratio of each round's p99 to the same round's
 * taps-alone p99 is reported, with the median over rounds. The server's event-loop delay
 * (perf_hooks.monitorEventLoopDelay) is printed beside.
 * Run: pnpm --filter @amp/apps bench:stall   (STALL_ROUNDS, STALL_SECONDS to change the length)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import { startPostgres } from "@amp/test-support";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { pino } from "pino";
import { type AppsEnv, appsRoutes } from "../src/http.js";
import { type ActingUser, Apps, type AppsOptions } from "../src/index.js";

const ROUNDS = Number(process.env.STALL_ROUNDS ?? 3);
const SECONDS = Number(process.env.STALL_SECONDS ?? 4);
const DOCS = 10_000;
const TAP_PACE_MS = 5;
const QUERY = 'status == "s7" | { title, n }';
/**
 * The scans the second client repeats: QUERY with a clause true of every document, different
 * in each (`n != -k`), so each is run rather than answered from query.json's answer cache.
 */
let scanNonce = 0;
const scanUrls = (base: string) =>
  Array.from({ length: 5000 }, () => {
    const query = `status == "s7" && n != -${++scanNonce} | { title, n }`;
    return `${base}/stall/query.json?query=${encodeURIComponent(query)}`;
  });
const root: ActingUser = { id: "root", anonymous: false, root: true };
const log = (msg: string) => console.log(`[stall] ${msg}`);
const dir = mkdtempSync(join(tmpdir(), "amp-apps-stall-"));

function sampleDoc(i: number) {
  return {
    _rmx_id: `doc${String(i).padStart(7, "0")}`,
    _rmx_type: i % 10 === 0 ? "task" : "note",
    category: `c${i % 100}`,
    status: `s${i % 100}`,
    title: `Document number ${i}`,
    done: i % 3 === 0,
    n: i,
    score: i * 1.5,
    tags: ["a", "b", `t${i % 7}`],
    meta: { owner: `u${i % 13}`, size: i * 7 },
  };
}

/**
 * A server over its own Apps with one app of DOCS documents, `category` indexed (`status` is
 * not): LMDB under `dir`, or PostgreSQL at `databaseUrl`.
 */
async function startServer(name: string, options: AppsOptions["query"], databaseUrl?: string) {
  const apps = await Apps.open({
    dir: join(dir, name),
    databaseUrl,
    logger: pino({ level: "silent" }),
    query: options,
  });
  await apps.setRules(root, "*", { allowed_create: ["_rmx_all_users"] });
  await apps.create(root, "stall", { indexedFields: ["category"] });
  const store = await apps.store(root, "stall", ["allowed_build"]);
  for (let i = 0; i < DOCS; i += 1000) {
    const batch = Array.from({ length: 1000 }, (_, j) => ({ op: "insert" as const, doc: sampleDoc(i + j) }));
    await store.write(batch, "bench");
  }
  const http = new Hono<AppsEnv>();
  // Stand-in for @amp/auth's middleware (the same for taps and scans; not what is measured here).
  http.use("*", async (c, next) => {
    c.set("user", root);
    await next();
  });
  http.route("/", appsRoutes({ apps }));
  const listener = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: http.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const base = `http://127.0.0.1:${(listener.address() as { port: number }).port}`;
  return {
    base,
    async close() {
      await new Promise((r) => listener.close(r));
      await apps.close();
    },
  };
}

/** A client on its own thread (so that it never waits for the server's event loop): GETs in a loop. */
const CLIENT = `
const { parentPort, workerData } = require("node:worker_threads");
const { urls, paceMs } = workerData;
let stop = false;
parentPort.on("message", () => { stop = true; });
(async () => {
  const lat = [];
  let errors = 0;
  for (let i = 0; !stop; i++) {
    const t0 = performance.now();
    const res = await fetch(urls[i % urls.length]);
    await res.arrayBuffer();
    if (res.status !== 200) errors++;
    lat.push(performance.now() - t0);
    if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
  }
  parentPort.postMessage({ lat, errors });
})();
`;

interface ClientRun {
  lat: number[];
  errors: number;
}

function startClient(urls: string[], paceMs: number): { stop(): Promise<ClientRun> } {
  const worker = new Worker(CLIENT, { eval: true, workerData: { urls, paceMs } });
  const done = new Promise<ClientRun>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  return {
    async stop() {
      worker.postMessage("stop");
      const run = await done;
      await worker.terminate();
      return run;
    },
  };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};
const median = (xs: number[]) => pct(xs, 50);
const ms = (x: number) => `${x.toFixed(2)} ms`;
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));

interface Phase {
  tapP50: number;
  tapP99: number;
  taps: number;
  queries: number;
  queryP50: number;
  eldP99: number;
}

async function phase(tapBase: string, scanBase: string | undefined): Promise<Phase> {
  const tapUrls = Array.from(
    { length: 50 },
    (_, i) => `${tapBase}/stall/documents/doc${String(i * 199).padStart(7, "0")}.json`,
  );
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  const taps = startClient(tapUrls, TAP_PACE_MS);
  const scan = scanBase ? startClient(scanUrls(scanBase), 0) : undefined;
  await sleep(SECONDS * 1000);
  const [t, q] = await Promise.all([taps.stop(), scan?.stop()]);
  eld.disable();
  if (t.errors || q?.errors) throw new Error(`non-200 answers: taps ${t.errors}, queries ${q?.errors}`);
  // The first taps include connection setup: drop the first 10.
  const lat = t.lat.slice(10);
  return {
    tapP50: pct(lat, 50),
    tapP99: pct(lat, 99),
    taps: lat.length,
    queries: q?.lat.length ?? 0,
    queryP50: q ? pct(q.lat, 50) : Number.NaN,
    eldP99: eld.percentile(99) / 1e6,
  };
}

async function main() {
  log(`setting up two servers, each with ${DOCS} documents (status unindexed)`);
  const shipped = await startServer("worker", undefined);
  const before = await startServer("inline", { inlineBudget: Number.POSITIVE_INFINITY });
  const database = await startPostgres();
  const postgres = await startServer("postgres", undefined, database.url);
  const pgInline = await startServer(
    "pg-inline",
    { inlineBudget: Number.POSITIVE_INFINITY },
    await database.createDatabase("inline"),
  );
  // Warm up: the query worker starts, every path compiles.
  for (const s of [shipped, before, postgres, pgInline]) {
    for (let i = 0; i < 3; i++) await fetch(`${s.base}/stall/query.json?query=${encodeURIComponent(QUERY)}`);
  }
  log(
    `query: ${QUERY}; taps every ${TAP_PACE_MS} ms; ${ROUNDS} rounds of alone / worker / inline / pg alone / postgres / pg inline, ${SECONDS} s each`,
  );
  const rows: {
    alone: Phase;
    worker: Phase;
    inline: Phase;
    pgAlone: Phase;
    postgres: Phase;
    pgInline: Phase;
  }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const alone = await phase(shipped.base, undefined);
    const worker = await phase(shipped.base, shipped.base);
    const inline = await phase(before.base, before.base);
    const pgAlone = await phase(postgres.base, undefined);
    const pgScan = await phase(postgres.base, postgres.base);
    const pgScanInline = await phase(pgInline.base, pgInline.base);
    rows.push({ alone, worker, inline, pgAlone, postgres: pgScan, pgInline: pgScanInline });
    const line = (name: string, p: Phase) =>
      `${name}: taps p50 ${ms(p.tapP50)} p99 ${ms(p.tapP99)} (${p.taps})` +
      (p.queries ? `; ${p.queries} queries, p50 ${ms(p.queryP50)}` : "") +
      `; event-loop delay p99 ${ms(p.eldP99)}`;
    log(`round ${round}`);
    log(`  ${line("alone ", alone)}`);
    log(`  ${line("worker", worker)}; p99 ratio ${(worker.tapP99 / alone.tapP99).toFixed(2)}×`);
    log(`  ${line("inline", inline)}; p99 ratio ${(inline.tapP99 / alone.tapP99).toFixed(2)}×`);
    log(`  ${line("pg alone", pgAlone)}`);
    log(`  ${line("postgres", pgScan)}; p99 ratio ${(pgScan.tapP99 / pgAlone.tapP99).toFixed(2)}×`);
    log(
      `  ${line("pg inline", pgScanInline)}; p99 ratio ${(pgScanInline.tapP99 / pgAlone.tapP99).toFixed(2)}×`,
    );
  }
  const m = (f: (r: (typeof rows)[number]) => number) => median(rows.map(f));
  console.log("\n| taps (point reads over HTTP), median of rounds | p50 | p99 | p99 / alone | scans/s |");
  console.log("| --- | --- | --- | --- | --- |");
  console.log(`| alone | ${ms(m((r) => r.alone.tapP50))} | ${ms(m((r) => r.alone.tapP99))} | 1 | – |`);
  for (const k of ["worker", "inline"] as const) {
    console.log(
      `| beside the scan, ${k === "worker" ? "query worker (shipped)" : "inline (before)"} | ${ms(m((r) => r[k].tapP50))} | ${ms(
        m((r) => r[k].tapP99),
      )} | ${m((r) => r[k].tapP99 / r.alone.tapP99).toFixed(2)}× | ${m((r) => r[k].queries / SECONDS).toFixed(1)} |`,
    );
  }
  console.log(
    `| PostgreSQL, alone | ${ms(m((r) => r.pgAlone.tapP50))} | ${ms(m((r) => r.pgAlone.tapP99))} | 1 | – |`,
  );
  for (const k of ["postgres", "pgInline"] as const) {
    console.log(
      `| PostgreSQL, beside the scan, ${k === "postgres" ? "query worker (shipped)" : "inline"} | ${ms(
        m((r) => r[k].tapP50),
      )} | ${ms(m((r) => r[k].tapP99))} | ${m((r) => r[k].tapP99 / r.pgAlone.tapP99).toFixed(2)}× | ${m(
        (r) => r[k].queries / SECONDS,
      ).toFixed(1)} |`,
    );
  }
  await shipped.close();
  await before.close();
  await postgres.close();
  await pgInline.close();
  await database.stop();
  rmSync(dir, { recursive: true, force: true });
}

await main();
