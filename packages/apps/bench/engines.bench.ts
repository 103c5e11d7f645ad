/**
 * The two engines on the same work, in one run: PostgreSQL (a real server started here, on
 * loopback, fsync off as in the tests) against LMDB, each through `Apps` and its stores:
 *   1. batch insert: 20 000 documents in batches of 1000 (docs/s; target on PostgreSQL ≥ 20k);
 *   2. point get: sequential `store.get` of random ids (µs per get, p50 and p99);
 *   3. point get through HTTP: GET /{app}/documents/{id}.json in-process (Hono's request());
 *   4. indexed query: `category == "cNN"` (200 of 20 000 documents) through the index;
 *   5. concurrent single-document creates: 16 writers, each one document per write (as
 *      `POST /{app}` of one document does), concurrently;
 *   6. that query's `query.json` answered 304 to its ETag through HTTP in-process (each engine
 *      checks the app's change sequence to validate the ETag).
 * Ratios are PostgreSQL / LMDB (for latency: how many times slower; for throughput: the share).
 * Run: pnpm --filter @amp/apps bench:engines
 */
import { startPostgres } from "@amp/test-support";
import { Hono } from "hono";
import { pino } from "pino";
import { type AppsEnv, appsRoutes } from "../src/http.js";
import { type ActingUser, Apps, type DocumentStore, parse } from "../src/index.js";
import { tempDir } from "../test/helpers.js";

const logger = pino({ level: "silent" });
const root: ActingUser = { id: "root", anonymous: false, root: true };
const DOCS = 20_000;
const BATCH = 1000;
const GETS = 3000;
const QUERIES = 200;

function sampleDoc(i: number) {
  return {
    _rmx_id: `doc${String(i).padStart(7, "0")}`,
    _rmx_type: i % 10 === 0 ? "task" : "note",
    category: `c${i % 100}`,
    title: `Document number ${i}`,
    done: i % 3 === 0,
    score: i * 1.5,
    tags: ["a", "b", `t${i % 7}`],
  };
}

/** Microseconds of each call, sorted. */
async function timings(n: number, f: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await f(i);
    out.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return out.sort((a, b) => a - b);
}
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

interface Figures {
  insertDocsPerSec: number;
  getP50: number;
  getP99: number;
  httpGetP50: number;
  queryP50: number;
  notModifiedP50: number;
  concurrentCreatesPerSec: number;
}

async function measure(apps: Apps): Promise<Figures> {
  await apps.create(root, "bench", { indexedFields: ["category"] });
  const store: DocumentStore = await apps.store(root, "bench", ["allowed_build"]);
  const started = performance.now();
  for (let i = 0; i < DOCS; i += BATCH) {
    const ops = Array.from({ length: BATCH }, (_, j) => ({ op: "insert" as const, doc: sampleDoc(i + j) }));
    await store.write(ops, "bench");
  }
  const insertDocsPerSec = Math.round(DOCS / ((performance.now() - started) / 1000));
  const id = (i: number) => `doc${String((i * 7919) % DOCS).padStart(7, "0")}`;
  await timings(200, (i) => store.get(id(i))); // warm-up
  const gets = await timings(GETS, (i) => store.get(id(i)));

  const http = new Hono<AppsEnv>();
  http.use("*", async (c, next) => {
    c.set("user", root);
    await next();
  });
  http.route("/", appsRoutes({ apps }));
  const fetchOne = async (i: number) => {
    const res = await http.request(`/bench/documents/${id(i)}.json`);
    if (res.status !== 200) throw new Error(`GET answered ${res.status}`);
    await res.arrayBuffer();
  };
  await timings(200, fetchOne);
  const httpGets = await timings(GETS, fetchOne);

  const query = (i: number) => parse(`category == "c${i % 100}"`);
  const first = await store.query(query(0));
  if (first.plan !== "index:category" || first.documents.length !== DOCS / 100) {
    throw new Error(`unexpected indexed query result: ${first.plan}, ${first.documents.length}`);
  }
  await timings(20, (i) => store.query(query(i)));
  const queries = await timings(QUERIES, (i) => store.query(query(i)));

  const queryUrl = `/bench/query.json?query=${encodeURIComponent('category == "c7"')}`;
  const etag = (await http.request(queryUrl)).headers.get("etag");
  if (!etag) throw new Error("query.json answered no ETag");
  const notModified = async () => {
    const res = await http.request(queryUrl, { headers: { "if-none-match": etag } });
    if (res.status !== 304) throw new Error(`query.json with its ETag answered ${res.status}`);
  };
  await timings(200, notModified);
  const notModifieds = await timings(GETS, notModified);
  const WRITERS = 16;
  const EACH = 100;
  const createsStarted = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = 0; i < EACH; i++) {
        await store.write([{ op: "insert", doc: { _rmx_type: "single", writer: w, i } }], "bench");
      }
    }),
  );
  const concurrentCreatesPerSec = Math.round(
    (WRITERS * EACH) / ((performance.now() - createsStarted) / 1000),
  );
  return {
    concurrentCreatesPerSec,
    insertDocsPerSec,
    getP50: pct(gets, 0.5),
    getP99: pct(gets, 0.99),
    httpGetP50: pct(httpGets, 0.5),
    queryP50: pct(queries, 0.5),
    notModifiedP50: pct(notModifieds, 0.5),
  };
}

const dir = tempDir("amp-engines-bench-");
const server = await startPostgres();
try {
  const lmdbApps = new Apps({ dir: dir.path, logger });
  const lmdb = await measure(lmdbApps);
  await lmdbApps.close();
  const pgApps = await Apps.open({ databaseUrl: server.url, logger });
  const postgres = await measure(pgApps);
  await pgApps.close();

  const rows: [string, string, string, string][] = [
    [
      "batch insert (docs/s)",
      `${lmdb.insertDocsPerSec}`,
      `${postgres.insertDocsPerSec}`,
      ratio(postgres.insertDocsPerSec, lmdb.insertDocsPerSec),
    ],
    [
      "concurrent single creates, 16 writers (docs/s)",
      `${lmdb.concurrentCreatesPerSec}`,
      `${postgres.concurrentCreatesPerSec}`,
      ratio(postgres.concurrentCreatesPerSec, lmdb.concurrentCreatesPerSec),
    ],
    ["point get p50 (µs)", us(lmdb.getP50), us(postgres.getP50), ratio(postgres.getP50, lmdb.getP50)],
    ["point get p99 (µs)", us(lmdb.getP99), us(postgres.getP99), ratio(postgres.getP99, lmdb.getP99)],
    [
      "point get via HTTP p50 (µs)",
      us(lmdb.httpGetP50),
      us(postgres.httpGetP50),
      ratio(postgres.httpGetP50, lmdb.httpGetP50),
    ],
    [
      "indexed query, 200 docs p50 (µs)",
      us(lmdb.queryP50),
      us(postgres.queryP50),
      ratio(postgres.queryP50, lmdb.queryP50),
    ],
    [
      "query.json 304 via HTTP p50 (µs)",
      us(lmdb.notModifiedP50),
      us(postgres.notModifiedP50),
      ratio(postgres.notModifiedP50, lmdb.notModifiedP50),
    ],
  ];
  console.log(`\n${DOCS} documents; PostgreSQL on loopback (fsync off), LMDB on the same disk\n`);
  console.log(["work", "LMDB", "PostgreSQL", "PG / LMDB"].join(" | "));
  for (const row of rows) console.log(row.join(" | "));
  console.log(
    `\nbatch insert target on PostgreSQL ≥ 20000 docs/s: ${postgres.insertDocsPerSec >= 20_000 ? "met" : "NOT met"}; ` +
      `point get via HTTP within 3× LMDB: ${postgres.httpGetP50 <= 3 * lmdb.httpGetP50 ? "met" : "NOT met"}`,
  );
} finally {
  await server.stop();
  dir.remove();
}

function us(n: number): string {
  return n.toFixed(0);
}

function ratio(pg: number, lmdb: number): string {
  return `${(pg / lmdb).toFixed(2)}×`;
}
