import { encodeMsgpack, type MixMap } from "@amp/codec";
import { type Database, open, type RootDatabase } from "lmdb";
import type { Logger } from "pino";
import { decodeCursor, plan, type Query } from "../query/index.js";
import { LmdbBlobStore } from "./blob-store.js";
import { ChangeFeed, type ChangeListener, type DocumentChange } from "./change-feed.js";
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits, decodeStored, newId } from "./document.js";
import { LmdbFileStore } from "./file-store.js";
import { IndexSet } from "./index-set.js";
import {
  checkScanCost,
  collectIndexIds,
  DEFAULT_MAX_EXAMINED,
  executePlan,
  type StoreQueryResult,
  type StoreReader,
} from "./query-executor.js";
import type { QueryThread } from "./query-thread.js";
import type { DocumentStore, WriteOp, WriteResult } from "./store.js";
import { checkOps, opId, resolveOp } from "./write-op.js";

export interface LmdbStoreOptions {
  /** Directory of this app's LMDB environment (created if missing). */
  readonly path: string;
  /** The app's name, carried on change events. */
  readonly app: string;
  /** Fields with a secondary index, besides `_rmx_type` which always has one. */
  readonly indexedFields?: readonly string[];
  readonly limits?: Partial<DocumentLimits>;
  readonly logger: Logger;
  /** Query execution: the cost limit and where expensive queries run. */
  readonly query?: QueryOptions;
}

export interface QueryOptions {
  /**
   * Most documents one query may examine (a scan examines them all; an index plan, the
   * entries in its ranges); past it the query is refused with `QueryTooCostlyError`
   * (`query_too_costly`, 422) naming the fields to index. Default 100 000.
   */
  readonly maxExamined?: number;
  /**
   * The worker `query()` sends a query to when it would examine more than `inlineBudget`
   * documents. Without one, every query runs on the calling thread.
   */
  readonly thread?: QueryThread;
  /** Queries examining at most this many documents run inline (a round trip to the worker costs more). Default 256. */
  readonly inlineBudget?: number;
}

/** Queries that examine at most this many documents run on the calling thread. */
export const DEFAULT_INLINE_BUDGET = 256;

/** How every thread opens a store's environment and its documents table. */
export const ENVIRONMENT = { maxDbs: 16, encoding: "msgpack" } as const;
export const DOCS_TABLE = { name: "docs", encoding: "binary" } as const;

const SEQ_KEY = "seq";

const INSTANCE_KEY = "instance";

/**
 * The LMDB engine: one app's documents, indexes, blobs and files in its own LMDB environment.
 * Writes are batches committed all-or-nothing (a child transaction inside LMDB's batched
 * async commit); the promise resolves once the batch is durable. Reads are synchronous
 * underneath: the async ones resolve at once, and `reader` is the synchronous view that
 * `runStoreQuery` and the registry use.
 */
export class LmdbDocumentStore implements DocumentStore {
  readonly app: string;
  /** Most documents one query may examine (see `QueryOptions`). */
  readonly maxExamined: number;
  private readonly path: string;
  private readonly queryThread: QueryThread | undefined;
  private readonly inlineBudget: number;
  /**
   * Random id of this environment, fixed at creation: an app deleted and
   * created again starts its sequence at 0 anew, so ETags carry this too.
   */
  readonly instance: string;
  readonly blobs: LmdbBlobStore;
  readonly files: LmdbFileStore;
  /** Synchronous reads of this environment (the query executor's view). */
  readonly reader: StoreReader & { readonly maxExamined: number };
  private readonly env: RootDatabase;
  private readonly docs: Database<Uint8Array, string>;
  private readonly meta: Database<unknown, string>;
  private readonly indexes: IndexSet;
  private readonly feed: ChangeFeed;
  private readonly limits: DocumentLimits;
  private lastSeq: number;

  constructor(options: LmdbStoreOptions) {
    this.app = options.app;
    this.limits = { ...DEFAULT_DOCUMENT_LIMITS, ...options.limits };
    this.path = options.path;
    this.maxExamined = options.query?.maxExamined ?? DEFAULT_MAX_EXAMINED;
    this.queryThread = options.query?.thread;
    this.inlineBudget = options.query?.inlineBudget ?? DEFAULT_INLINE_BUDGET;
    this.env = open({ path: options.path, ...ENVIRONMENT });
    this.docs = this.env.openDB(DOCS_TABLE);
    this.meta = this.env.openDB({ name: "meta", encoding: "msgpack" });
    this.blobs = new LmdbBlobStore(this.env);
    this.files = new LmdbFileStore(this.env, this.blobs);
    this.indexes = new IndexSet(this.env, options.indexedFields ?? []);
    this.feed = new ChangeFeed((err) =>
      options.logger.error({ err, app: this.app }, "change listener failed"),
    );
    this.lastSeq = (this.meta.get(SEQ_KEY) as number | undefined) ?? 0;
    let instance = this.meta.get(INSTANCE_KEY) as string | undefined;
    if (instance === undefined) {
      instance = newId().slice(0, 12);
      this.meta.putSync(INSTANCE_KEY, instance);
    }
    this.instance = instance;
    const { docs, indexes } = this;
    this.reader = {
      get indexedFields() {
        return indexes.fields;
      },
      get count() {
        return docs.getCount();
      },
      maxExamined: this.maxExamined,
      get: (id) => this.getSync(id),
      allDocuments: () => this.documentsSync(),
      indexIds: (field, range) => indexes.ids(field, range),
    };
    if (this.indexes.needsRebuild(this.meta)) {
      this.env.transactionSync(() => this.indexes.rebuild(this.meta, this.documentsSync()));
    }
  }

  /** The app's change sequence: bumped by every committed write. */
  get seq(): number {
    return this.lastSeq;
  }

  get indexedFields(): readonly string[] {
    return this.indexes.fields;
  }

  async currentSeq(): Promise<number> {
    return this.lastSeq;
  }

  async get(id: string): Promise<MixMap | undefined> {
    return this.getSync(id);
  }

  private getSync(id: string): MixMap | undefined {
    const bytes = this.docs.getBinaryFast(id);
    return bytes === undefined ? undefined : decodeStored(bytes);
  }

  async *allDocuments(): AsyncGenerator<MixMap> {
    yield* this.documentsSync();
  }

  /** Every document in id order (a read snapshot is taken per call). */
  private *documentsSync(): Generator<MixMap> {
    for (const { value } of this.docs.getRange()) yield decodeStored(value);
  }

  async list(limit: number, afterId?: string): Promise<MixMap[]> {
    const out: MixMap[] = [];
    for (const { key, value } of this.docs.getRange({ start: afterId, limit: limit + 1 })) {
      if (key === afterId) continue;
      if (out.length === limit) break;
      out.push(decodeStored(value));
    }
    return out;
  }

  async count(): Promise<number> {
    return this.docs.getCount();
  }

  /** The secondary indexes (read through the query planner's ranges). */
  get indexSet(): IndexSet {
    return this.indexes;
  }

  /**
   * Runs a query without holding the event loop: a query that examines at most
   * `inlineBudget` documents (counted from the index keys, or the store's count for a
   * scan) runs here at once; a bigger one runs on the query thread, over a snapshot
   * taken when it starts there. The result is `runStoreQuery`'s. A query over
   * `maxExamined` is refused with `QueryTooCostlyError`; a bad cursor with
   * `QueryCursorError`, before anything runs.
   */
  async query(query: Query): Promise<StoreQueryResult> {
    const chosen = plan(query, this.indexedFields);
    const thread = this.queryThread;
    if (!thread) return executePlan(this.reader, query, chosen, this.maxExamined);
    if (query.after !== undefined) decodeCursor(query.after, query.sort ?? []);
    if (chosen.kind === "scan") {
      const count = this.docs.getCount();
      checkScanCost(count, query, chosen, this.maxExamined);
      if (count <= this.inlineBudget) return executePlan(this.reader, query, chosen, this.maxExamined);
    } else {
      // The index entries are read once: counted against the budget and kept as the candidates.
      const ids = collectIndexIds(this.reader, chosen, this.inlineBudget);
      if (ids !== undefined) return executePlan(this.reader, query, chosen, this.maxExamined, ids);
    }
    return thread.run(this.path, this.indexedFields, query, this.maxExamined);
  }

  async write(ops: readonly WriteOp[], actor: string): Promise<WriteResult> {
    checkOps(ops, this.limits);
    const changes: DocumentChange[] = [];
    const pending: { results: MixMap[]; seq: number } = { results: [], seq: 0 };
    const apply = () => {
      changes.length = 0;
      pending.results = this.applyOps(ops, actor, changes);
      pending.seq = ((this.meta.get(SEQ_KEY) as number | undefined) ?? 0) + 1;
      this.meta.put(SEQ_KEY, pending.seq);
    };
    // A lone op refuses (not_found, conflict, …) before its first put, so it has
    // nothing to roll back and can skip the child transaction, which costs more
    // than the write itself. A batch needs it: op 3 may fail after ops 1–2 wrote.
    await this.env.transaction(ops.length === 1 ? apply : () => this.env.childTransaction(apply));
    this.lastSeq = Math.max(this.lastSeq, pending.seq);
    this.feed.emit({ app: this.app, seq: pending.seq, changes });
    return { seq: pending.seq, results: pending.results };
  }

  private applyOps(ops: readonly WriteOp[], actor: string, changes: DocumentChange[]): MixMap[] {
    const now = new Date().toISOString();
    const results: MixMap[] = [];
    for (const op of ops) {
      const id = opId(op);
      const old = id === undefined ? undefined : this.getSync(id);
      const effect = resolveOp(op, old, actor, now);
      if (effect.kind === "delete") {
        const moves = this.indexes.changes(effect.id, old, undefined);
        this.docs.remove(effect.id);
        this.indexes.apply(moves);
        changes.push({ op: "delete", id: effect.id });
        results.push({ _rmx_id: effect.id, deleted: true });
        continue;
      }
      const stored = effect.doc;
      const storedId = stored._rmx_id as string;
      // Everything that can throw (encoding, index keys) happens before the first put.
      const bytes = encodeMsgpack(stored);
      const moves = this.indexes.changes(storedId, old, stored);
      this.docs.put(storedId, bytes);
      this.indexes.apply(moves);
      changes.push({ op: "put", id: storedId, doc: stored });
      results.push(stored);
    }
    return results;
  }

  /** Declares the indexed fields (besides `_rmx_type`) and rebuilds the indexes in one transaction. */
  async setIndexedFields(fields: readonly string[]): Promise<void> {
    this.env.transactionSync(() => {
      this.indexes.setFields(fields);
      this.indexes.rebuild(this.meta, this.documentsSync());
    });
  }

  /** Subscribe to committed changes of this app. Returns the unsubscribe function. */
  subscribe(listener: ChangeListener): () => void {
    return this.feed.subscribe(listener);
  }

  /** App-level values kept beside the documents (runtime.json, resources.json, archive metadata). */
  async getMeta<T>(key: string): Promise<T | undefined> {
    return this.meta.get(`app:${key}`) as T | undefined;
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    await this.meta.put(`app:${key}`, value);
  }

  /** Waits for pending writes and closes the environment. */
  async close(): Promise<void> {
    await this.queryThread?.closeEnvironment(this.path);
    await this.env.close();
  }
}
