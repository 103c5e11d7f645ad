/** A key and its value, as `range` answers them. */
export interface RecordEntry<V> {
  readonly key: string;
  readonly value: V;
}

/** What an `update` writes: a value, or `null` to delete the key. */
export type RecordWrites<V> = ReadonlyMap<string, V | null>;

/** What an `update`'s decision answers: the writes to make and the caller's result. */
export interface UpdateDecision<V, R> {
  readonly writes?: RecordWrites<V>;
  readonly result: R;
}

/**
 * One namespace of small keyed records (at most `MAX_RECORD_BYTES` each): what several amp
 * nodes must agree on besides app documents — signing keys and other secrets, revocations,
 * login plugin configurations, passkey credentials. Keys order by their UTF-8 bytes.
 *
 * Two engines pass one conformance suite: LMDB (`LmdbRecords`, the embedded default, one
 * process or several on one machine) and PostgreSQL (`PostgresRecords`, several nodes).
 */
export interface RecordStore<V> {
  get(key: string): Promise<V | undefined>;
  put(key: string, value: V): Promise<void>;
  /** True when the key existed. */
  delete(key: string): Promise<boolean>;
  /** Every entry whose key starts with `prefix` (all when omitted), in key order. */
  range(prefix?: string): Promise<RecordEntry<V>[]>;
  /**
   * Reads `keys` and applies the writes `decide` returns, atomically: no other write to those
   * keys lands in between (in any process or node). `decide` must be a pure function of what it
   * is given: an engine may call it again after a conflict.
   */
  update<R>(
    keys: readonly string[],
    decide: (current: ReadonlyMap<string, V>) => UpdateDecision<V, R>,
  ): Promise<R>;
  /**
   * Calls `listener` after a write to this namespace by anyone, this process included, with the
   * key written — or with `undefined` when changes may have been missed (the engine lost its
   * notification channel for a while), so a cache should reload everything.
   * Returns the function that stops listening.
   */
  watch(listener: (key: string | undefined) => void): () => void;
}

/** Namespaces of records on one engine. */
export interface Records {
  /** Which engine: "lmdb" or "postgres". */
  readonly engine: string;
  /** The store of `namespace` (1–64 of `a-z 0-9 _ -`). */
  open<V>(namespace: string): RecordStore<V>;
  close(): Promise<void>;
}

/** Largest encoded record: these are small things (a config, a key set), not documents. */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** Longest key, in UTF-8 bytes (LMDB's key limit is ~2 KB). */
export const MAX_KEY_BYTES = 1024;

const NAMESPACE = /^[a-z0-9_-]{1,64}$/;

export function checkNamespace(namespace: string): void {
  if (!NAMESPACE.test(namespace))
    throw new RangeError(`record namespace "${namespace}" must be 1-64 of a-z 0-9 _ -`);
}

export function checkKey(key: string): void {
  if (key.length === 0 || Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new RangeError(`a record key must be 1-${MAX_KEY_BYTES} bytes`);
  }
}
