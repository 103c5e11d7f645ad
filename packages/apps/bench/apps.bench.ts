/**
 * @amp/apps benchmarks, each side by side with its peer in the same run:
 *   0. stored-document encoding: @amp/codec msgpack vs msgpackr with extension types;
 *   1. point get/put through LmdbDocumentStore vs raw lmdb get/put of the same bytes;
 *   2. batch insert of 100k documents;
 *   3. indexed query vs full scan on 100k documents;
 *   4. HTTP GET /{app}/query.json (200 and 304) vs a bare Hono route on the same server (autocannon),
 *      amp's side with a real Ed25519 bearer token through @amp/auth's middleware (as the server), the
 *      bare route without any check.
 * Run: pnpm --filter @amp/apps bench   (BENCH_ONLY=encoding,point,batch,http runs a subset)
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AUTH_VAULT_APP, authMiddleware, TokenService } from "@amp/auth";
import { decodeMsgpack, encodeMsgpack, TaggedString } from "@amp/codec";
import { Secrets } from "@amp/secrets";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { open } from "lmdb";
import { addExtension, Packr } from "msgpackr";
import { pino } from "pino";
import { type AppsEnv, appsRoutes } from "../src/http.js";
import { type ActingUser, Apps, LmdbDocumentStore, parse, runStoreQuery } from "../src/index.js";
import { stampDocument } from "../src/store/document.js";

const logger = pino({ level: "silent" });
const HTTP_SECONDS = 2;
const HTTP_ROUNDS = 4;
const AUTOCANNON = fileURLToPath(new URL("../node_modules/.bin/autocannon", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "amp-apps-bench-"));
const results: { name: string; value: string }[] = [];
const log = (msg: string) => console.log(`[bench] ${msg}`);
const record = (name: string, value: string) => {
  results.push({ name, value });
  log(`${name}: ${value}`);
};
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
const fmt = (n: number) => n.toLocaleString("en-US");

function sampleDoc(i: number) {
  return {
    _rmx_id: `doc${String(i).padStart(7, "0")}`,
    _rmx_type: i % 10 === 0 ? "task" : "note",
    category: `c${i % 100}`,
    category_copy: `c${i % 100}`,
    title: `Document number ${i}`,
    done: i % 3 === 0,
    score: i * 1.5,
    tags: ["a", "b", `t${i % 7}`],
  };
}

/** CPU time (user + system) of `f`, in ms: on a shared machine wall time mostly measures waiting. */
function cpuMs(f: () => void): number {
  const start = process.cpuUsage();
  f();
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

/**
 * The store encodes with @amp/codec's msgpack. Its peer: msgpackr (native string
 * extraction, as lmdb uses it) with an extension type for refs, the mapping the
 * store used before. Same stored documents, interleaved rounds, best CPU time.
 */
function encoding(): void {
  const N = 50_000;
  addExtension({
    Class: TaggedString,
    type: 0x41,
    write: (v: TaggedString) => `${v.tag}\u0000${v.value}`,
    read: (text: string) => {
      const cut = text.indexOf("\u0000");
      return new TaggedString(text.slice(0, cut), text.slice(cut + 1));
    },
  });
  const packr = new Packr({
    useRecords: false,
    mapsAsObjects: true,
    moreTypes: false,
    variableMapSize: true,
  });
  const now = new Date().toISOString();
  const docs = Array.from({ length: N }, (_, i) => stampDocument(sampleDoc(i), undefined, "bench", now));
  const ours = docs.map((d) => encodeMsgpack(d));
  const theirs = docs.map((d) => packr.pack(d));
  const best = { enc: Infinity, dec: Infinity, peerEnc: Infinity, peerDec: Infinity };
  for (let r = 0; r < 7; r++) {
    best.enc = Math.min(
      best.enc,
      cpuMs(() => {
        for (const d of docs) encodeMsgpack(d);
      }),
    );
    best.peerEnc = Math.min(
      best.peerEnc,
      cpuMs(() => {
        for (const d of docs) packr.pack(d);
      }),
    );
    best.dec = Math.min(
      best.dec,
      cpuMs(() => {
        for (const b of ours) decodeMsgpack(b);
      }),
    );
    best.peerDec = Math.min(
      best.peerDec,
      cpuMs(() => {
        for (const b of theirs) packr.unpack(b);
      }),
    );
  }
  const ns = (ms: number) => Math.round((ms * 1e6) / N);
  const size = (xs: Uint8Array[]) => Math.round(xs.reduce((n, x) => n + x.length, 0) / N);
  record(
    "stored document encode, @amp/codec msgpack vs msgpackr (ns/doc, CPU)",
    `${ns(best.enc)} vs ${ns(best.peerEnc)} = ${(best.enc / best.peerEnc).toFixed(2)}× the time (${size(ours)} vs ${size(theirs)} bytes)`,
  );
  record(
    "stored document decode, @amp/codec msgpack vs msgpackr (ns/doc, CPU)",
    `${ns(best.dec)} vs ${ns(best.peerDec)} = ${(best.dec / best.peerDec).toFixed(2)}× the time`,
  );
}

async function pointOps(): Promise<void> {
  const N = 50_000;
  log(`point get/put: ${fmt(N)} documents`);
  const store = new LmdbDocumentStore({ path: join(dir, "point"), app: "point", logger });
  const raw = open({ path: join(dir, "raw"), encoding: "binary" });
  const docs = Array.from({ length: N }, (_, i) => sampleDoc(i));

  let t = performance.now();
  await Promise.all(docs.map((doc) => store.write([{ op: "upsert", doc }], "bench")));
  const storePut = rate(N, performance.now() - t);
  // Raw peer: the same stored bytes, one put per document, the same number in flight.
  const bytes = docs.map((d) => encodeMsgpack(store.reader.get(d._rmx_id)!).slice());
  t = performance.now();
  await Promise.all(docs.map((d, i) => raw.put(d._rmx_id, bytes[i]!)));
  const rawPut = rate(N, performance.now() - t);
  record(
    "point put LmdbDocumentStore (docs/s)",
    `${fmt(storePut)} vs raw lmdb ${fmt(rawPut)} = ${((storePut / rawPut) * 100).toFixed(0)}%`,
  );

  const ids = docs.map((d) => d._rmx_id).sort(() => Math.random() - 0.5);
  // Short interleaved rounds, each side's CPU time (a loaded machine mostly adds waiting for a
  // core to wall time), the side going first alternating; ratio per round, median reported.
  const ROUNDS = 15;
  const ratios: number[] = [];
  let storeBest = 0;
  let rawBest = 0;
  const storeGets = () =>
    cpuMs(() => {
      for (const id of ids) store.reader.get(id);
    });
  const rawGets = () =>
    cpuMs(() => {
      for (const id of ids) raw.getBinary(id);
    });
  for (let r = 0; r < ROUNDS; r++) {
    let storeMs: number;
    let rawMs: number;
    if (r % 2) {
      storeMs = storeGets();
      rawMs = rawGets();
    } else {
      rawMs = rawGets();
      storeMs = storeGets();
    }
    if (r < 2) continue; // warm-up
    ratios.push(rawMs / storeMs);
    storeBest = Math.max(storeBest, rate(N, storeMs));
    rawBest = Math.max(rawBest, rate(N, rawMs));
  }
  const median = [...ratios].sort((x, y) => x - y)[Math.floor(ratios.length / 2)]!;
  record(
    "point get LmdbDocumentStore (gets per CPU second, decoded; best)",
    `${fmt(storeBest)} vs raw lmdb getBinary ${fmt(rawBest)}; median ratio ${(median * 100).toFixed(0)}% (range ${(Math.min(...ratios) * 100).toFixed(0)}–${(Math.max(...ratios) * 100).toFixed(0)}%, target ≥ 50%)`,
  );
  await store.close();
  await raw.close();
}

async function batchAndQuery(): Promise<void> {
  const N = 100_000;
  const store = new LmdbDocumentStore({
    path: join(dir, "batch"),
    app: "batch",
    logger,
    indexedFields: ["category"],
  });
  const docs = Array.from({ length: N }, (_, i) => sampleDoc(i));
  log(`batch insert: ${fmt(N)} documents in batches of 10k`);
  const t = performance.now();
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < N; i += 10_000) {
    await store.write(
      docs.slice(i, i + 10_000).map((doc) => ({ op: "insert" as const, doc })),
      "bench",
    );
  }
  const ms = performance.now() - t;
  const cpu = process.cpuUsage(cpuStart);
  const cpuRate = rate(N, (cpu.user + cpu.system) / 1000);
  record(
    "batch insert 100k docs (docs/s)",
    `${fmt(rate(N, ms))} (${ms.toFixed(0)} ms; target ≥ 50,000); ${fmt(cpuRate)} per CPU second (all threads)`,
  );

  const indexed = parse('category == "c7" | { title }');
  const scanned = parse('category_copy == "c7" | { title }');
  const time = (q: typeof indexed) => {
    let best = Infinity;
    let out = runStoreQuery(store.reader, q);
    for (let r = 0; r < 3; r++) {
      const s = performance.now();
      out = runStoreQuery(store.reader, q);
      best = Math.min(best, performance.now() - s);
    }
    return { best, out };
  };
  log("indexed query vs full scan on 100k documents (1% match)");
  const a = time(indexed);
  const b = time(scanned);
  if (a.out.documents.length !== b.out.documents.length) throw new Error("index and scan disagree");
  record(
    "query 100k docs, 1,000 matches",
    `index (${a.out.plan}) ${a.best.toFixed(1)} ms vs scan (${b.out.plan}) ${b.best.toFixed(1)} ms = ${(b.best / a.best).toFixed(1)}× faster`,
  );
  await store.close();
}

/** autocannon in its own process, so the load generator does not share the server's event loop. */
async function load(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ rps: number; codes: string }> {
  const args = ["-c", "10", "-d", String(HTTP_SECONDS), "-j"];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}=${v}`);
  const out = await new Promise<string>((resolve, reject) => {
    execFile(AUTOCANNON, [...args, url], { maxBuffer: 10 * 1024 * 1024 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    );
  });
  const r = JSON.parse(out) as { requests: { average: number }; "2xx": number; non2xx: number };
  return { rps: Math.round(r.requests.average), codes: `2xx=${r["2xx"]} non2xx=${r.non2xx}` };
}

async function http(): Promise<void> {
  const apps = new Apps({ dir: join(dir, "http"), logger });
  const root: ActingUser = { id: "root", anonymous: false, root: true };
  await apps.create(root, "bench", { indexedFields: ["category"] });
  await apps.setRules(root, "bench", { allowed_read: ["reader"] });
  const docs = Array.from({ length: 1000 }, (_, i) => sampleDoc(i));
  await (await apps.store(root, "bench", ["allowed_build"])).write(
    docs.map((doc) => ({ op: "insert" as const, doc })),
    "bench",
  );
  const q = '_rmx_type == "task" && category == "c10" | { title }';
  const body = (await apps.query(root, "bench", parse(q))).documents;

  // The server's own token check: @amp/auth's TokenService (signing keys in @amp/secrets) and
  // middleware, with its verified-token cache, on every request of every side.
  const secrets = new Secrets({ databaseDir: join(dir, "auth") });
  const tokens = await TokenService.open({
    databaseDir: join(dir, "auth"),
    vault: secrets.scoped(AUTH_VAULT_APP),
    logger,
  });
  const auth = { authorization: `Bearer ${await tokens.issue("reader")}` };
  const server = new Hono<AppsEnv>();
  // The peer: the same bytes from a bare route, before (so without) the token check.
  server.get("/bare", (c) => c.json(body));
  server.use("*", authMiddleware({ tokens }));
  server.route("/", appsRoutes({ apps }));
  const listener = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: server.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const address = listener.address() as { port: number };
  const base = `http://127.0.0.1:${address.port}`;
  const url = `${base}/bench/query.json?query=${encodeURIComponent(q)}`;
  const etag = (await fetch(url, { headers: auth })).headers.get("etag")!;

  log(
    `HTTP: autocannon (own process), 10 connections; ${HTTP_ROUNDS} rounds of bare / 200 / 304, ${HTTP_SECONDS} s each`,
  );
  // The machine's load drifts by several times within a minute: compare within each round, report the median.
  const ratios200: number[] = [];
  const ratios304: number[] = [];
  const totals = { bare: 0, full: 0, cached: 0 };
  for (let round = 1; round <= HTTP_ROUNDS; round++) {
    const bare = await load(`${base}/bare`, auth);
    const full = await load(url, auth);
    const cached = await load(url, { ...auth, "if-none-match": etag });
    if (!full.codes.endsWith("non2xx=0") || !cached.codes.startsWith("2xx=0"))
      throw new Error("unexpected statuses");
    ratios200.push(full.rps / bare.rps);
    ratios304.push(cached.rps / bare.rps);
    totals.bare += bare.rps;
    totals.full += full.rps;
    totals.cached += cached.rps;
    log(`round ${round}: bare ${fmt(bare.rps)}, 200 ${fmt(full.rps)}, 304 ${fmt(cached.rps)} req/s`);
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const mean = (n: number) => fmt(Math.round(n / HTTP_ROUNDS));
  record(
    "HTTP query.json 200 (req/s, mean)",
    `${mean(totals.full)} vs bare ${mean(totals.bare)}; median ratio ${(median(ratios200) * 100).toFixed(0)}%`,
  );
  record(
    "HTTP query.json 304 (req/s, mean)",
    `${mean(totals.cached)} vs bare ${mean(totals.bare)}; median ratio ${(median(ratios304) * 100).toFixed(0)}% (target ≥ 70%)`,
  );
  listener.close();
  await apps.close();
  await tokens.close();
  await secrets.close();
}

const only = process.env.BENCH_ONLY?.split(",");
const wanted = (name: string) => !only || only.includes(name);
try {
  if (wanted("encoding")) encoding();
  if (wanted("point")) await pointOps();
  if (wanted("batch")) await batchAndQuery();
  if (wanted("http")) await http();
  console.log("\n| benchmark | result |\n| --- | --- |");
  for (const r of results) console.log(`| ${r.name} | ${r.value} |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
