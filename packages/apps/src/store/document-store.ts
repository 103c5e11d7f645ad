import { decodeMsgpack, encodeMsgpack, type MixMap } from "@amp/codec";
import { type Database, open, type RootDatabase } from "lmdb";
import type { Logger } from "pino";
import { AppsError } from "../errors.js";
import { checkItemName } from "../names.js";
import { decodeCursor, type IndexRange, plan, type Query } from "../query/index.js";
import { BlobStore } from "./blob-store.js";
import { ChangeFeed, type ChangeListener, type DocumentChange } from "./change-feed.js";
import {
  checkDocument,
  DEFAULT_DOCUMENT_LIMITS,
  type DocumentLimits,
  newId,
  revOf,
  stampDocument,
} from "./document.js";
import { FileStore } from "./file-store.js";
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

export interface DocumentStoreOptions {
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

/** One operation of an atomic batch. */
export type WriteOp =
  /** Create; fails with `conflict` if `_rmx_id` exists. */
  | { readonly op: "insert"; readonly doc: MixMap }
  /** Replace an existing document; fails with `not_found` if absent. */
  | { readonly op: "update"; readonly doc: MixMap }
  /** Create or replace. */
  | { readonly op: "upsert"; readonly doc: MixMap }
  /** Remove; fails with `not_found` if absent. */
  | { readonly op: "delete"; readonly id: string; readonly rev?: string }
  /** Write a document exactly as given, system fields included (import). */
  | { readonly op: "restore"; readonly doc: MixMap };

export interface WriteResult {
  /** The change sequence after this batch. */
  readonly seq: number;
  /** Per op: the stored document, or `{_rmx_id, deleted: true}`. */
  readonly results: readonly MixMap[];
}

const SEQ_KEY = "seq";

/**
 * Documents are stored as @amp/codec msgpack, the format of `.remix` entries. LMDB hands
 * back a Buffer that it reuses on the next read, and the decoder copies binary values with
 * `slice`, which on a Buffer is a view: decoding through a plain Uint8Array view makes every
 * binary value a copy of its own (a plain Uint8Array, on every thread).
 */
export function decodeStored(bytes: Uint8Array): MixMap {
  return decodeMsgpack(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)) as MixMap;
}
const INSTANCE_KEY = "instance";

/**
 * One app's documents, indexes, blobs and files in its own LMDB environment.
 * Writes are batches committed all-or-nothing (a child transaction inside
 * LMDB's batched async commit); the promise resolves once the batch is durable.
 */
export class DocumentStore implements StoreReader {
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
  readonly blobs: BlobStore;
  readonly files: FileStore;
  private readonly env: RootDatabase;
  private readonly docs: Database<Uint8Array, string>;
  private readonly meta: Database<unknown, string>;
  private readonly indexes: IndexSet;
  private readonly feed: ChangeFeed;
  private readonly limits: DocumentLimits;
  private currentSeq: number;

  constructor(options: DocumentStoreOptions) {
    this.app = options.app;
    this.limits = { ...DEFAULT_DOCUMENT_LIMITS, ...options.limits };
    this.path = options.path;
    this.maxExamined = options.query?.maxExamined ?? DEFAULT_MAX_EXAMINED;
    this.queryThread = options.query?.thread;
    this.inlineBudget = options.query?.inlineBudget ?? DEFAULT_INLINE_BUDGET;
    this.env = open({ path: options.path, ...ENVIRONMENT });
    this.docs = this.env.openDB(DOCS_TABLE);
    this.meta = this.env.openDB({ name: "meta", encoding: "msgpack" });
    this.blobs = new BlobStore(this.env);
    this.files = new FileStore(this.env, this.blobs);
    this.indexes = new IndexSet(this.env, options.indexedFields ?? []);
    this.feed = new ChangeFeed((err) =>
      options.logger.error({ err, app: this.app }, "change listener failed"),
    );
    this.currentSeq = (this.meta.get(SEQ_KEY) as number | undefined) ?? 0;
    let instance = this.meta.get(INSTANCE_KEY) as string | undefined;
    if (instance === undefined) {
      instance = newId().slice(0, 12);
      this.meta.putSync(INSTANCE_KEY, instance);
    }
    this.instance = instance;
    if (this.indexes.needsRebuild(this.meta)) {
      this.env.transactionSync(() => this.indexes.rebuild(this.meta, this.allDocuments()));
    }
  }

  /** The app's change sequence: bumped by every committed write. */
  get seq(): number {
    return this.currentSeq;
  }

  get indexedFields(): readonly string[] {
    return this.indexes.fields;
  }

  get(id: string): MixMap | undefined {
    const bytes = this.docs.getBinaryFast(id);
    return bytes === undefined ? undefined : decodeStored(bytes);
  }

  /** Every document in id order (a read snapshot is taken per call). */
  *allDocuments(): Generator<MixMap> {
    for (const { value } of this.docs.getRange()) yield decodeStored(value);
  }

  /** A page of documents in id order, starting after `afterId`. */
  list(limit: number, afterId?: string): MixMap[] {
    const out: MixMap[] = [];
    for (const { key, value } of this.docs.getRange({ start: afterId, limit: limit + 1 })) {
      if (key === afterId) continue;
      if (out.length === limit) break;
      out.push(decodeStored(value));
    }
    return out;
  }

  get count(): number {
    return this.docs.getCount();
  }

  /** The secondary indexes (read through the query planner's ranges). */
  get indexSet(): IndexSet {
    return this.indexes;
  }

  /** Ids whose index key for `field` lies in `range`, in key order. */
  indexIds(field: string, range: IndexRange): Iterable<string> {
    return this.indexes.ids(field, range);
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
    if (!thread) return executePlan(this, query, chosen, this.maxExamined);
    if (query.after !== undefined) decodeCursor(query.after, query.sort ?? []);
    if (chosen.kind === "scan") {
      const count = this.count;
      checkScanCost(count, query, chosen, this.maxExamined);
      if (count <= this.inlineBudget) return executePlan(this, query, chosen, this.maxExamined);
    } else {
      // The index entries are read once: counted against the budget and kept as the candidates.
      const ids = collectIndexIds(this, chosen, this.inlineBudget);
      if (ids !== undefined) return executePlan(this, query, chosen, this.maxExamined, ids);
    }
    return thread.run(this.path, this.indexedFields, query, this.maxExamined);
  }

  /** Applies `ops` atomically: either every op is applied and the sequence bumps once, or nothing changes. */
  async write(ops: readonly WriteOp[], actor: string): Promise<WriteResult> {
    for (const op of ops) {
      if (op.op === "delete") checkItemName(op.id);
      else checkDocument(op.doc, this.limits);
    }
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
    this.currentSeq = Math.max(this.currentSeq, pending.seq);
    this.feed.emit({ app: this.app, seq: pending.seq, changes });
    return { seq: pending.seq, results: pending.results };
  }

  private applyOps(ops: readonly WriteOp[], actor: string, changes: DocumentChange[]): MixMap[] {
    const now = new Date().toISOString();
    const results: MixMap[] = [];
    for (const op of ops) {
      if (op.op === "delete") {
        const old = this.get(op.id);
        if (!old) throw new AppsError("not_found", `no document ${op.id}`);
        if (op.rev !== undefined && op.rev !== revOf(old)) {
          throw new AppsError("conflict", `document ${op.id} has changed (rev mismatch)`);
        }
        const moves = this.indexes.changes(op.id, old, undefined);
        this.docs.remove(op.id);
        this.indexes.apply(moves);
        changes.push({ op: "delete", id: op.id });
        results.push({ _rmx_id: op.id, deleted: true });
        continue;
      }
      const id = op.doc._rmx_id as string | undefined;
      const old = id === undefined ? undefined : this.get(id);
      let stored: MixMap;
      if (op.op === "restore") {
        if (id === undefined) throw new AppsError("invalid_document", "a restored document needs _rmx_id");
        stored = op.doc;
      } else {
        if (op.op === "insert" && old) throw new AppsError("conflict", `document ${id} exists`);
        if (op.op === "update" && !old)
          throw new AppsError("not_found", `no document ${id ?? "(no _rmx_id)"}`);
        const expected = revOf(op.doc);
        if (old && expected !== undefined && expected !== revOf(old)) {
          throw new AppsError("conflict", `document ${id} has changed (rev mismatch)`);
        }
        stored = stampDocument(op.doc, old, actor, now);
      }
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
  setIndexedFields(fields: readonly string[]): void {
    this.env.transactionSync(() => {
      this.indexes.setFields(fields);
      this.indexes.rebuild(this.meta, this.allDocuments());
    });
  }

  /** Subscribe to committed changes of this app. Returns the unsubscribe function. */
  subscribe(listener: ChangeListener): () => void {
    return this.feed.subscribe(listener);
  }

  /** App-level values kept beside the documents (runtime.json, resources.json, archive metadata). */
  getMeta<T>(key: string): T | undefined {
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
