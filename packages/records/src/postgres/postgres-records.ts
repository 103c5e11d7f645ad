import { createHash } from "node:crypto";
import type { Logger } from "pino";
import { decodeRecord, encodeRecord } from "../record-codec.js";
import {
  checkKey,
  checkNamespace,
  type RecordEntry,
  type RecordStore,
  type Records,
  type UpdateDecision,
} from "../record-store.js";
import { Watchers } from "../watchers.js";
import type { PostgresDatabase, Query } from "./database.js";
import { type Migration, migrate } from "./migrations.js";

const STEPS: readonly Migration[] = [
  {
    version: 1,
    // Keys as UTF-8 bytes: they order as LMDB's do, and may hold any character (NUL included).
    sql: `CREATE TABLE amp_records (
            namespace text COLLATE "C" NOT NULL,
            key bytea NOT NULL,
            value bytea NOT NULL,
            PRIMARY KEY (namespace, key)
          )`,
  },
];

/** Every write notifies this channel with `<namespace> <base64 key>`, delivered at commit. */
const CHANNEL = "amp_records";

/**
 * Record namespaces in one PostgreSQL table, shared by every node on the database. Writes to a
 * key are serialized by a transaction-scoped advisory lock on it, so `update` is atomic across
 * nodes even for keys that do not exist yet; `watch` hears every node's writes through
 * LISTEN/NOTIFY.
 */
export class PostgresRecords implements Records {
  readonly engine = "postgres";
  readonly #stores = new Map<string, PostgresRecordStore<unknown>>();

  private constructor(
    private readonly database: PostgresDatabase,
    private readonly logger: Logger,
  ) {}

  /** Creates or upgrades the records table (once, whichever node starts first). */
  static async open(database: PostgresDatabase, logger: Logger): Promise<PostgresRecords> {
    await migrate(database, "records", STEPS);
    return new PostgresRecords(database, logger);
  }

  open<V>(namespace: string): RecordStore<V> {
    checkNamespace(namespace);
    let store = this.#stores.get(namespace);
    if (!store) {
      store = new PostgresRecordStore(this.database, namespace, this.logger);
      this.#stores.set(namespace, store);
    }
    return store as RecordStore<V>;
  }

  /** Stops every watch; the database (the caller's, with its LISTEN connection) stays open. */
  async close(): Promise<void> {
    for (const store of this.#stores.values()) store.unwatchAll();
  }
}

class PostgresRecordStore<V> implements RecordStore<V> {
  readonly #watchers = new Watchers();
  #unsubscribe: (() => void) | undefined;

  constructor(
    private readonly database: PostgresDatabase,
    private readonly namespace: string,
    private readonly logger: Logger,
  ) {}

  async get(key: string): Promise<V | undefined> {
    checkKey(key);
    const rows = await this.database.query<{ value: Buffer }>(
      "SELECT value FROM amp_records WHERE namespace = $1 AND key = $2",
      [this.namespace, Buffer.from(key)],
    );
    return rows[0] ? decodeRecord<V>(rows[0].value) : undefined;
  }

  async put(key: string, value: V): Promise<void> {
    await this.update([key], () => ({ writes: new Map([[key, value]]), result: undefined }));
  }

  async delete(key: string): Promise<boolean> {
    return this.update([key], (current) => ({ writes: new Map([[key, null]]), result: current.has(key) }));
  }

  async range(prefix = ""): Promise<RecordEntry<V>[]> {
    const start = Buffer.from(prefix);
    const end = successor(start);
    const rows = await this.database.query<{ key: Buffer; value: Buffer }>(
      end
        ? "SELECT key, value FROM amp_records WHERE namespace = $1 AND key >= $2 AND key < $3 ORDER BY key"
        : "SELECT key, value FROM amp_records WHERE namespace = $1 AND key >= $2 ORDER BY key",
      end ? [this.namespace, start, end] : [this.namespace, start],
    );
    return rows.map((row) => ({ key: row.key.toString("utf8"), value: decodeRecord<V>(row.value) }));
  }

  async update<R>(
    keys: readonly string[],
    decide: (current: ReadonlyMap<string, V>) => UpdateDecision<V, R>,
  ): Promise<R> {
    for (const key of keys) checkKey(key);
    const written: string[] = [];
    const result = await this.database.transaction(async (query) => {
      await this.#lock(query, keys);
      const rows = await query<{ key: Buffer; value: Buffer }>(
        "SELECT key, value FROM amp_records WHERE namespace = $1 AND key = ANY($2::bytea[])",
        [this.namespace, keys.map((key) => Buffer.from(key))],
      );
      const current = new Map(rows.map((row) => [row.key.toString("utf8"), decodeRecord<V>(row.value)]));
      const decision = decide(current);
      const writes = [...(decision.writes ?? [])];
      // A write to a key that was not read is locked too (in the same order rule), before it lands.
      await this.#lock(
        query,
        writes.map(([key]) => key).filter((key) => !keys.includes(key)),
      );
      for (const [key, value] of writes) {
        checkKey(key);
        const keyBytes = Buffer.from(key);
        if (value === null) {
          const removed = await query(
            "DELETE FROM amp_records WHERE namespace = $1 AND key = $2 RETURNING 1",
            [this.namespace, keyBytes],
          );
          if (removed.length === 0) continue;
        } else {
          await query(
            `INSERT INTO amp_records (namespace, key, value) VALUES ($1, $2, $3)
             ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value`,
            [this.namespace, keyBytes, encodeRecord(value)],
          );
        }
        await query("SELECT pg_notify($1, $2)", [
          CHANNEL,
          `${this.namespace} ${keyBytes.toString("base64")}`,
        ]);
        written.push(key);
      }
      return decision.result;
    });
    // Heard here at once; other nodes hear it through NOTIFY (this node too, again: at least once).
    for (const key of written) this.#watchers.emit(key);
    return result;
  }

  watch(listener: (key: string | undefined) => void): () => void {
    const stop = this.#watchers.add(listener);
    this.#unsubscribe ??= this.database.notifications.subscribe(CHANNEL, (payload) => this.#heard(payload));
    return () => {
      stop();
      if (this.#watchers.size === 0) {
        this.#unsubscribe?.();
        this.#unsubscribe = undefined;
      }
    };
  }

  unwatchAll(): void {
    this.#watchers.clear();
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  #heard(payload: string | undefined): void {
    if (payload === undefined) {
      this.#watchers.emit(undefined);
      return;
    }
    // Anyone who can connect may NOTIFY this channel: a payload not of our form is dropped.
    const space = payload.indexOf(" ");
    if (space < 0) {
      this.logger.warn({ channel: CHANNEL }, "ignored a malformed records notification");
      return;
    }
    if (payload.slice(0, space) !== this.namespace) return;
    this.#watchers.emit(Buffer.from(payload.slice(space + 1), "base64").toString("utf8"));
  }

  /** Transaction-scoped advisory locks on the keys, taken in one order so two updates never deadlock. */
  async #lock(query: Query, keys: readonly string[]): Promise<void> {
    const ids = [...new Set(keys.map((key) => lockId(this.namespace, key)))].sort();
    for (const id of ids) await query("SELECT pg_advisory_xact_lock($1::bigint)", [id]);
  }
}

/** A signed 64-bit lock id for a key (a hash: a collision only makes two keys wait for each other). */
function lockId(namespace: string, key: string): string {
  return createHash("sha256")
    .update(namespace)
    .update("\0")
    .update(key)
    .digest()
    .readBigInt64BE(0)
    .toString();
}

/** The smallest byte string greater than every string that starts with `prefix`; none for "" or all 0xff. */
function successor(prefix: Buffer): Buffer | undefined {
  const bytes = Buffer.from(prefix);
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      bytes[i]!++;
      return bytes.subarray(0, i + 1);
    }
  }
  return undefined;
}
