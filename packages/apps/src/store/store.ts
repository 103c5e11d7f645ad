import type { MixMap } from "@amp/codec";
import type { Query } from "../query/index.js";
import type { ChangeListener } from "./change-feed.js";
import type { StoreQueryResult } from "./query-executor.js";

/**
 * One app's documents, indexes, change sequence, blobs and files: the interface both
 * engines implement (`LmdbDocumentStore`, `PostgresDocumentStore`). Reads are async so that
 * a networked engine fits; the LMDB engine resolves them at once.
 */
export interface DocumentStore {
  readonly app: string;
  /**
   * Random id of this app's storage, fixed at creation: an app deleted and created again
   * starts its sequence at 0 anew, so ETags carry this too.
   */
  readonly instance: string;
  /** The last change sequence this process has seen committed (its own writes and, on PostgreSQL, other nodes'). */
  readonly seq: number;
  /** Fields with a secondary index, `_rmx_type` included, sorted. */
  readonly indexedFields: readonly string[];
  /** Most documents one query may examine (see `QueryOptions`). */
  readonly maxExamined: number;
  readonly blobs: BlobStore;
  readonly files: FileStore;

  /** The committed change sequence, read from the engine (on PostgreSQL: what every node has committed). */
  currentSeq(): Promise<number>;
  get(id: string): Promise<MixMap | undefined>;
  /** A page of documents in id order, starting after `afterId`. */
  list(limit: number, afterId?: string): Promise<MixMap[]>;
  count(): Promise<number>;
  /** Every document in id order. */
  allDocuments(): AsyncIterable<MixMap>;
  /**
   * Runs a query with the reference semantics of `runQuery`: a query over `maxExamined`
   * is refused with `QueryTooCostlyError`; a bad cursor with `QueryCursorError`.
   */
  query(query: Query): Promise<StoreQueryResult>;
  /** Applies `ops` atomically: either every op is applied and the sequence bumps once, or nothing changes. */
  write(ops: readonly WriteOp[], actor: string): Promise<WriteResult>;
  /** Declares the indexed fields (besides `_rmx_type`) and rebuilds the indexes in one transaction. */
  setIndexedFields(fields: readonly string[]): Promise<void>;
  /** Subscribe to committed changes of this app. Returns the unsubscribe function. */
  subscribe(listener: ChangeListener): () => void;
  /** App-level values kept beside the documents (runtime.json, resources.json, archive metadata). */
  getMeta<T>(key: string): Promise<T | undefined>;
  setMeta(key: string, value: unknown): Promise<void>;
  /** Waits for pending writes and lets go of the storage. */
  close(): Promise<void>;
}

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

export interface BlobInfo {
  readonly ref: string;
  readonly size: number;
}

/** Content-addressed (sha256) raw data of one app, stored in chunks so a read can stream. */
export interface BlobStore {
  /** Stores `parts` (already size-checked by the caller) and returns the sha256 ref. Idempotent. */
  put(parts: readonly Uint8Array[]): Promise<BlobInfo>;
  info(ref: string): Promise<BlobInfo | undefined>;
  refs(): Promise<string[]>;
  /** The blob's bytes, chunk by chunk as the consumer pulls; `not_found` (on the first pull) when absent. */
  stream(ref: string): ReadableStream<Uint8Array>;
  read(ref: string): Promise<Buffer>;
}

/** A user file: a name pointing at a blob, with the content type it was uploaded with. */
export interface FileEntry {
  readonly name: string;
  readonly ref: string;
  readonly size: number;
  readonly contentType: string;
  /** Public files (from an imported app's resources) are readable by anyone who may run the app. */
  readonly public: boolean;
  readonly modifiedAt: string;
  readonly modifiedBy: string;
}

export interface FileStore {
  /** Stores the parts as a blob and points `name` at it. */
  put(
    name: string,
    parts: readonly Uint8Array[],
    contentType: string,
    actor: string,
    isPublic?: boolean,
  ): Promise<FileEntry>;
  get(name: string): Promise<FileEntry | undefined>;
  list(): Promise<FileEntry[]>;
  delete(name: string): Promise<void>;
}
