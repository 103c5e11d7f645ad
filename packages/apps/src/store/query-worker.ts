import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import { encodeMsgpack, type MixMap } from "@amp/codec";
import { type Database, open, type RootDatabase } from "lmdb";
import { compileFilter, plan } from "../query/index.js";
import { decodeStored } from "./document.js";
import { INDEX_TABLE, indexTableRange } from "./index-set.js";
import { DOCS_TABLE, ENVIRONMENT } from "./lmdb-document-store.js";
import { executePlan, type StoreReader } from "./query-executor.js";
import { type QueryWorkerReply, type QueryWorkerRequest, toWorkerError } from "./query-thread.js";

/**
 * The query worker: runs queries that `DocumentStore.query` sends off the event loop.
 * It opens each app's environment the way the store does (lmdb-js shares the
 * environment with the main thread) and only reads.
 */
interface Tables {
  readonly env: RootDatabase;
  readonly docs: Database<Uint8Array, string>;
  readonly index: Database<string, Buffer>;
}

const open_ = new Map<string, Tables>();

function tables(path: string): Tables {
  let t = open_.get(path);
  if (!t) {
    const env = open({ path, ...ENVIRONMENT });
    t = { env, docs: env.openDB(DOCS_TABLE), index: env.openDB(INDEX_TABLE) };
    open_.set(path, t);
  }
  return t;
}

function reader(t: Tables, indexedFields: readonly string[]): StoreReader {
  return {
    indexedFields,
    get count() {
      return t.docs.getCount();
    },
    get(id) {
      const bytes = t.docs.getBinaryFast(id);
      return bytes === undefined ? undefined : decodeStored(bytes);
    },
    *allDocuments() {
      for (const { value } of t.docs.getRange()) yield decodeStored(value);
    },
    *indexIds(field, range) {
      for (const { value } of t.index.getRange(indexTableRange(field, range))) yield value;
    },
  };
}

async function handle(m: QueryWorkerRequest): Promise<QueryWorkerReply> {
  if (m.type === "close") {
    const t = open_.get(m.path);
    open_.delete(m.path);
    await t?.env.close();
    return { id: m.id, ok: true };
  }
  if (m.type === "filter") {
    const keep = compileFilter(m.filter);
    const kept: MixMap[] = [];
    let at = 0;
    for (const length of m.lengths) {
      const doc = decodeStored(m.docs.subarray(at, at + length));
      at += length;
      if (keep(doc)) kept.push(doc);
    }
    return { id: m.id, ok: true, documents: encodeMsgpack(kept) };
  }
  const t = tables(m.path);
  // A fresh snapshot: it holds every write committed before this query was sent.
  t.env.resetReadTxn();
  const result = executePlan(
    reader(t, m.indexedFields),
    m.query,
    plan(m.query, m.indexedFields),
    m.maxExamined,
  );
  return {
    id: m.id,
    ok: true,
    documents: encodeMsgpack(result.documents),
    plan: result.plan,
    ...(result.next !== undefined && { next: result.next }),
  };
}

/**
 * Queries here are background work: on Linux this thread lowers its own scheduling priority
 * (nice 10; a thread id is a pid to setpriority), so that when the cores are contended
 * the event loop that serves sessions, MQTT and requests runs first.
 */
export const QUERY_WORKER_NICE = 10;
try {
  const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, QUERY_WORKER_NICE);
} catch {
  // Not Linux, or not allowed: run at the process's priority.
}

const port = parentPort!;
port.on("message", (m: QueryWorkerRequest) => {
  handle(m).then(
    (reply) => port.postMessage(reply),
    (err: unknown) =>
      port.postMessage({ id: m.id, ok: false, error: toWorkerError(err) } satisfies QueryWorkerReply),
  );
});
