import { type Database, open, type RootDatabase } from "lmdb";
import { encodeRecord } from "./record-codec.js";
import {
  checkKey,
  checkNamespace,
  type RecordEntry,
  type RecordStore,
  type Records,
  type UpdateDecision,
} from "./record-store.js";
import { Watchers } from "./watchers.js";

/**
 * A `RecordStore` on one LMDB database (msgpack values). Writes are seen by every process that
 * opens the same folder; `watch` hears this store object's own writes only.
 */
export class LmdbRecordStore<V> implements RecordStore<V> {
  readonly #watchers = new Watchers();
  #closing = false;

  constructor(private readonly db: Database<V, string>) {}

  /**
   * Ends reads and watch calls before the environment closes. lmdb lets a read in while its close
   * waits for pending writes, then throws from a timer of its own (an uncaught exception): a
   * watcher reloading after the last write landed was such a read.
   */
  markClosing(): void {
    this.#closing = true;
    this.#watchers.clear();
  }

  async get(key: string): Promise<V | undefined> {
    checkKey(key);
    this.#checkOpen();
    return this.db.get(key);
  }

  async put(key: string, value: V): Promise<void> {
    checkKey(key);
    checkSize(value);
    await this.db.put(key, value);
    this.#watchers.emit(key);
  }

  async delete(key: string): Promise<boolean> {
    checkKey(key);
    const removed = this.db.removeSync(key);
    if (removed) this.#watchers.emit(key);
    return removed;
  }

  async range(prefix = ""): Promise<RecordEntry<V>[]> {
    this.#checkOpen();
    const out: RecordEntry<V>[] = [];
    for (const { key, value } of this.db.getRange(prefix ? { start: prefix } : {})) {
      if (!key.startsWith(prefix)) break;
      out.push({ key, value });
    }
    return out;
  }

  async update<R>(
    keys: readonly string[],
    decide: (current: ReadonlyMap<string, V>) => UpdateDecision<V, R>,
  ): Promise<R> {
    for (const key of keys) checkKey(key);
    this.#checkOpen();
    const written: string[] = [];
    const result = this.db.transactionSync(() => {
      const current = new Map<string, V>();
      for (const key of keys) {
        const value = this.db.get(key);
        if (value !== undefined) current.set(key, value);
      }
      const decision = decide(current);
      for (const [key, value] of decision.writes ?? []) {
        checkKey(key);
        if (value === null) {
          if (this.db.removeSync(key)) written.push(key);
        } else {
          checkSize(value);
          this.db.putSync(key, value);
          written.push(key);
        }
      }
      return decision.result;
    });
    for (const key of written) this.#watchers.emit(key);
    return result;
  }

  watch(listener: (key: string | undefined) => void): () => void {
    return this.#watchers.add(listener);
  }

  #checkOpen(): void {
    if (this.#closing) throw new Error("Can not read from a closed database");
  }
}

/** Record namespaces as named databases of one LMDB environment in `path`. */
export class LmdbRecords implements Records {
  readonly engine = "lmdb";
  readonly #env: RootDatabase;
  readonly #stores = new Map<string, LmdbRecordStore<unknown>>();

  constructor(path: string) {
    this.#env = open({ path, maxDbs: 32, encoding: "msgpack" });
  }

  open<V>(namespace: string): RecordStore<V> {
    checkNamespace(namespace);
    let store = this.#stores.get(namespace);
    if (!store) {
      store = new LmdbRecordStore(
        this.#env.openDB<unknown, string>({ name: namespace, encoding: "msgpack" }),
      );
      this.#stores.set(namespace, store);
    }
    return store as RecordStore<V>;
  }

  async close(): Promise<void> {
    for (const store of this.#stores.values()) store.markClosing();
    await this.#env.close();
  }
}

// LMDB encodes with its own msgpack; encoding once more here keeps the size limit the same on
// both engines (these are small, rarely written records).
function checkSize(value: unknown): void {
  encodeRecord(value);
}
