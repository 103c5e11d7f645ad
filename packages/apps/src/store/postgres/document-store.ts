import { decodeMsgpack, encodeMsgpack, type MixMap, type MixValue } from "@amp/codec";
import type { Logger } from "pino";
import { AppsError } from "../../errors.js";
import {
  compileFilter,
  decodeCursor,
  type IndexRange,
  type Plan,
  plan,
  type Query,
} from "../../query/index.js";
import { ChangeFeed, type ChangeListener, type DocumentChange } from "../change-feed.js";
import { type DocumentLimits, decodeStored } from "../document.js";
import { normalizeIndexedFields } from "../index-set.js";
import { checkScanCost, executePlan, type StoreQueryResult, type StoreReader } from "../query-executor.js";
import type { QueryThread } from "../query-thread.js";
import type { DocumentStore, WriteOp, WriteResult } from "../store.js";
import { checkOps, opId, resolveOp } from "../write-op.js";
import { PostgresBlobStore } from "./blob-store.js";
import type { Database, Query as Sql } from "./database.js";
import { PostgresFileStore } from "./file-store.js";
import { GroupCommit, type Settled } from "./group-commit.js";
import { createIndexSql, dropIndexSql, KeyProjection, rangeCondition } from "./index-keys.js";

/** A row of `amp_stores`. */
export interface StoreRow {
  readonly id: string;
  readonly instance: string;
  readonly seq: string;
  readonly indexed_fields: string[];
}

/** What every store of one engine shares. */
export interface StoreContext {
  readonly db: Database;
  readonly logger: Logger;
  readonly limits: DocumentLimits;
  readonly maxExamined: number;
  /** Where a scan of more than `inlineBudget` documents decodes and filters its pages. */
  readonly thread: QueryThread;
  readonly inlineBudget: number;
  /** This process's id on the change channel: its own notifications are not replayed. */
  readonly node: string;
  /** The store closed: no more notifications for it. */
  readonly onClose: (store: PostgresDocumentStore) => void;
}

/** The LISTEN/NOTIFY channel of committed batches (`<store> <seq> <node> <kind>`). */
export const CHANGE_CHANNEL = "amp_changes";

/**
 * A group of batches' writes after their documents were read under the store's row lock:
 * deletes, upserts (the documents as one bytea cut by offsets: far cheaper than a bytea[], which
 * the driver sends as hex text; their keys as one JSON array), the sequence bump (one per batch,
 * `$12` of them), each batch's change log (one bytea cut by `$13`/`$14`) and the notice. The
 * deleted and written ids are disjoint (each id's final state).
 */
const WRITE_BATCH = `
  WITH deleted AS (
    DELETE FROM amp_docs WHERE store = $1 AND id = ANY($2::text[])
  ), written AS (
    INSERT INTO amp_docs (store, id, doc, keys)
      SELECT $1, d.id, substring($4::bytea FROM d.off FOR d.len), k.keys
      FROM unnest($3::text[], $5::int[], $6::int[]) WITH ORDINALITY AS d (id, off, len, i)
      JOIN jsonb_array_elements($7::jsonb) WITH ORDINALITY AS k (keys, i) ON k.i = d.i
    ON CONFLICT (store, id) DO UPDATE SET doc = EXCLUDED.doc, keys = EXCLUDED.keys
  ), bumped AS (
    UPDATE amp_stores SET seq = seq + $12::int WHERE id = $1 RETURNING seq
  ), logged AS (
    INSERT INTO amp_changes (store, seq, changes)
      SELECT $1, bumped.seq - $12::int + l.i, substring($8::bytea FROM l.off FOR l.len)
      FROM bumped, unnest($13::int[], $14::int[]) WITH ORDINALITY AS l (off, len, i)
  )
  SELECT seq, pg_notify($9, $10 || ' ' || seq || ' ' || $11) FROM bumped`;

/** One `write` waiting for its group's commit. */
interface QueuedWrite {
  readonly ops: readonly WriteOp[];
  readonly actor: string;
}

/** A batch of a group that resolved: its answers and changes, its sequence number once committed. */
interface Committed {
  readonly ok: true;
  readonly results: MixMap[];
  readonly changes: DocumentChange[];
  seq: number;
}

/** Ops one group commit takes at most (a larger batch alone is committed alone). */
const GROUP_OPS = 1000;

/** Batches kept in `amp_changes` per store for other nodes' feeds. */
const KEPT_CHANGES = 1000;
/** Documents read per round trip when reading them all. */
const PAGE = 1000;

/**
 * The PostgreSQL engine: one app's documents in `amp_docs` (msgpack, exact) with the `keys`
 * projection its partial expression indexes read. A write is one transaction that locks the
 * store's row (writers of one app take turns, as LMDB's single writer), bumps its sequence,
 * logs the batch for other nodes and notifies them.
 */
export class PostgresDocumentStore implements DocumentStore {
  readonly blobs: PostgresBlobStore;
  readonly files: PostgresFileStore;
  readonly instance: string;
  readonly id: number;
  private lastSeq: number;
  /** The last batch this node's feed has emitted (or skipped, with no one listening): feeds go in sequence order. */
  private fedSeq: number;
  private fields: string[];
  /** The `keys` of documents for `fields` (rebuilt when they change). */
  private projection: KeyProjection;
  private readonly feed: ChangeFeed;
  /** Other nodes' batches, emitted one after another in sequence order. */
  private remote: Promise<void> = Promise.resolve();
  /** This node's writes to the store, committed in groups. */
  private readonly writes = new GroupCommit<QueuedWrite, WriteResult>(
    (group) => this.commitGroup(group),
    (write) => write.ops.length,
    GROUP_OPS,
  );

  constructor(
    private readonly ctx: StoreContext,
    readonly app: string,
    row: StoreRow,
  ) {
    this.id = Number(row.id);
    this.instance = row.instance;
    this.lastSeq = Number(row.seq);
    this.fedSeq = this.lastSeq;
    this.fields = row.indexed_fields;
    this.projection = new KeyProjection(this.fields);
    this.blobs = new PostgresBlobStore(ctx.db, this.id);
    this.files = new PostgresFileStore(ctx.db, this.id, this.blobs);
    this.feed = new ChangeFeed((err) => ctx.logger.error({ err, app }, "change listener failed"));
  }

  get seq(): number {
    return this.lastSeq;
  }

  get indexedFields(): readonly string[] {
    return this.fields;
  }

  get maxExamined(): number {
    return this.ctx.maxExamined;
  }

  async currentSeq(): Promise<number> {
    const [row] = await this.ctx.db.query<{ seq: string }>("SELECT seq FROM amp_stores WHERE id = $1", [
      this.id,
    ]);
    const seq = Number(row?.seq ?? 0);
    this.lastSeq = Math.max(this.lastSeq, seq);
    return seq;
  }

  async get(id: string): Promise<MixMap | undefined> {
    const doc = await this.ctx.db.readDoc(this.id, id);
    return doc === undefined ? undefined : decodeStored(doc);
  }

  async list(limit: number, afterId?: string): Promise<MixMap[]> {
    const rows = await this.ctx.db.query<{ doc: Buffer }>(
      afterId === undefined
        ? "SELECT doc FROM amp_docs WHERE store = $1 ORDER BY id LIMIT $2"
        : "SELECT doc FROM amp_docs WHERE store = $1 AND id > $3 ORDER BY id LIMIT $2",
      afterId === undefined ? [this.id, limit] : [this.id, limit, afterId],
    );
    return rows.map((r) => decodeStored(r.doc));
  }

  async count(): Promise<number> {
    const [row] = await this.ctx.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM amp_docs WHERE store = $1",
      [this.id],
    );
    return Number(row?.n ?? 0);
  }

  async *allDocuments(): AsyncGenerator<MixMap> {
    for await (const rows of this.pages()) for (const row of rows) yield decodeStored(row.doc);
  }

  /** The stored documents in id order, a page of rows per round trip. */
  private async *pages(): AsyncGenerator<{ id: string; doc: Buffer }[]> {
    let after = "";
    for (;;) {
      const rows = await this.ctx.db.query<{ id: string; doc: Buffer }>(
        "SELECT id, doc FROM amp_docs WHERE store = $1 AND id > $2 ORDER BY id LIMIT $3",
        [this.id, after, PAGE],
      );
      if (rows.length > 0) yield rows;
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]!.id;
    }
  }

  /**
   * A scan's documents that the filter keeps (the executor filters them again, to the same
   * answer): only those are held, so a scan's garbage stays small. Past `inlineBudget`
   * documents each page is decoded and filtered on the query worker, so that the event loop
   * only receives the rows and the kept documents.
   */
  private async scan(query: Query, count: number, docs: Map<string, MixMap>): Promise<void> {
    const keep = compileFilter(query.filter);
    const onWorker = count > this.ctx.inlineBudget;
    for await (const rows of this.pages()) {
      const kept = onWorker
        ? await this.ctx.thread.filter(query.filter, ...joined(rows.map((r) => r.doc)))
        : rows.map((r) => decodeStored(r.doc)).filter(keep);
      for (const doc of kept) docs.set(doc._rmx_id as string, doc);
    }
  }

  /**
   * SQL finds the candidates (an index plan: each range through the field's expression index;
   * a scan: every document, after counting them); the LMDB engine's executor then filters,
   * sorts, pages and projects them, so both engines answer alike to the byte.
   */
  async query(query: Query): Promise<StoreQueryResult> {
    const chosen = plan(query, this.fields);
    if (query.after !== undefined) decodeCursor(query.after, query.sort ?? []);
    const docs = new Map<string, MixMap>();
    const ranges = new Map<IndexRange, string[]>();
    let count = 0;
    if (chosen.kind === "scan") {
      count = await this.count();
      checkScanCost(count, query, chosen, this.maxExamined);
      await this.scan(query, count, docs);
    } else {
      // One more than the limit in all, so the executor sees the overflow and refuses.
      let room = this.maxExamined + 1;
      for (const range of chosen.ranges) {
        const ids = room > 0 ? await this.rangeIds(chosen, range, room, docs) : [];
        room -= ids.length;
        ranges.set(range, ids);
      }
    }
    const reader: StoreReader = {
      indexedFields: this.fields,
      count,
      get: (id) => docs.get(id),
      allDocuments: () => docs.values(),
      indexIds: (_field, range) => ranges.get(range) ?? [],
    };
    return executePlan(reader, query, chosen, this.maxExamined);
  }

  private async rangeIds(
    chosen: Extract<Plan, { kind: "index" }>,
    range: IndexRange,
    limit: number,
    docs: Map<string, MixMap>,
  ): Promise<string[]> {
    const cond = rangeCondition(chosen.field, range, 2);
    const rows = await this.ctx.db.query<{ id: string; doc: Buffer }>(
      `SELECT id, doc FROM amp_docs WHERE store = ${this.id} AND ${cond.sql} LIMIT $1`,
      [limit, ...cond.values],
    );
    for (const row of rows) docs.set(row.id, decodeStored(row.doc));
    return rows.map((r) => r.id);
  }

  async write(ops: readonly WriteOp[], actor: string): Promise<WriteResult> {
    checkOps(ops, this.ctx.limits);
    return this.writes.submit({ ops, actor });
  }

  /**
   * Commits queued batches in one transaction (`GroupCommit`), in queue order, as if one after
   * another: each batch sees the earlier ones' effect, a batch that fails (`not_found`,
   * `conflict`) fails alone and leaves nothing, and each committed batch has its own sequence
   * number and change log, as when committed alone.
   */
  private async commitGroup(group: readonly QueuedWrite[]): Promise<Settled<WriteResult>[]> {
    const outcomes: (Committed | { ok: false; error: unknown })[] = [];
    const last = await this.locked(async (sql, fields) => {
      outcomes.length = 0; // the body's own, were it ever run again
      const named = [
        ...new Set(group.flatMap((w) => w.ops.map(opId)).filter((id): id is string => id !== undefined)),
      ];
      const current = new Map<string, MixMap | undefined>();
      if (named.length > 0) {
        const rows = await sql<{ id: string; doc: Buffer }>(
          "SELECT id, doc FROM amp_docs WHERE store = $1 AND id = ANY($2::text[])",
          [this.id, named],
        );
        for (const row of rows) current.set(row.id, decodeStored(row.doc));
      }
      const now = new Date().toISOString();
      const touched = new Set<string>();
      for (const { ops, actor } of group) {
        // Later ops of a batch see the earlier ones' effect, as in one LMDB transaction; the
        // batch's effect joins `current` only once all of its ops resolved.
        const effects = new Map<string, MixMap | undefined>();
        const changes: DocumentChange[] = [];
        const results: MixMap[] = [];
        try {
          for (const op of ops) {
            const id = opId(op);
            const old = id === undefined ? undefined : effects.has(id) ? effects.get(id) : current.get(id);
            const effect = resolveOp(op, old, actor, now);
            if (effect.kind === "delete") {
              effects.set(effect.id, undefined);
              changes.push({ op: "delete", id: effect.id });
              results.push({ _rmx_id: effect.id, deleted: true });
            } else {
              const storedId = effect.doc._rmx_id as string;
              effects.set(storedId, effect.doc);
              changes.push({ op: "put", id: storedId, doc: effect.doc });
              results.push(effect.doc);
            }
          }
        } catch (error) {
          outcomes.push({ ok: false, error });
          continue;
        }
        for (const [id, doc] of effects) {
          current.set(id, doc);
          touched.add(id);
        }
        outcomes.push({ ok: true, results, changes, seq: 0 });
      }
      const committed = outcomes.filter((o): o is Committed => o.ok);
      if (committed.length === 0) return undefined;
      // The documents travel as one binary parameter, cut apart by offsets in SQL: far cheaper
      // than a bytea[] (which the driver writes as hex text).
      const putIds: string[] = [];
      const encoded = new Map<string, Uint8Array>();
      const offsets: number[] = [];
      const lengths: number[] = [];
      const keys: Record<string, string>[] = [];
      const deleted: string[] = [];
      if (this.projection.fields.join("\0") !== fields.join("\0"))
        this.projection = new KeyProjection(fields);
      let size = 0;
      for (const id of touched) {
        const doc = current.get(id);
        if (doc === undefined) {
          deleted.push(id);
          continue;
        }
        const bytes = encodeMsgpack(doc);
        encoded.set(id, bytes);
        putIds.push(id);
        offsets.push(size + 1);
        lengths.push(bytes.byteLength);
        size += bytes.byteLength;
        keys.push(this.projection.keys(doc));
      }
      const logs = committed.map((o) => changeLog(o.changes, current, encoded));
      const logOffsets: number[] = [];
      let logSize = 0;
      for (const log of logs) {
        logOffsets.push(logSize + 1);
        logSize += log.byteLength;
      }
      // One statement, one round trip: the documents, the sequence, the logs, the notification.
      const [row] = await sql<{ seq: string }>(WRITE_BATCH, [
        this.id,
        deleted,
        putIds,
        Buffer.concat([...encoded.values()], size),
        offsets,
        lengths,
        JSON.stringify(keys),
        Buffer.concat(logs, logSize),
        CHANGE_CHANNEL,
        `${this.id}`,
        `${this.ctx.node} write`,
        committed.length,
        logOffsets,
        logs.map((log) => log.byteLength),
      ]);
      const next = Number(row!.seq);
      if (Math.floor(next / 100) > Math.floor((next - committed.length) / 100)) {
        await sql("DELETE FROM amp_changes WHERE store = $1 AND seq <= $2", [this.id, next - KEPT_CHANGES]);
      }
      return next;
    });
    const committed = outcomes.filter((o): o is Committed => o.ok);
    if (last !== undefined) {
      const first = last - committed.length + 1;
      this.lastSeq = Math.max(this.lastSeq, last);
      if (this.fedSeq === first - 1) {
        for (const [i, o] of committed.entries()) {
          this.feed.emit({ app: this.app, seq: first + i, changes: o.changes });
        }
        this.fedSeq = last;
      } else {
        // Other nodes' batches before these are not emitted yet: they go first, then these (read
        // back from the log), before the writes resolve, as on LMDB.
        await this.catchUp(last);
      }
      for (const [i, o] of committed.entries()) o.seq = first + i;
    }
    return outcomes.map((o) => (o.ok ? { ok: true, value: { seq: o.seq, results: o.results } } : o));
  }

  /**
   * A transaction holding the store's row lock (writers of one app take turns); `body` gets the
   * indexed fields as committed. The lock is taken in the BEGIN's round trip.
   */
  private locked<T>(body: (sql: Sql, fields: string[]) => Promise<T>): Promise<T> {
    return this.ctx.db.transaction(async (sql, rows) => {
      const row = rows[0] as { indexed_fields: string[] } | undefined;
      if (!row) throw new AppsError("not_found", "no such app");
      this.fields = row.indexed_fields;
      return body(sql, row.indexed_fields);
    }, `SELECT indexed_fields FROM amp_stores WHERE id = ${this.id} FOR UPDATE`);
  }

  /** Tells the other nodes that the indexed fields changed (the sequence stays). */
  private async announceFields(sql: Sql): Promise<void> {
    await sql("SELECT pg_notify($1, $2 || ' ' || seq || ' ' || $3) FROM amp_stores WHERE id = $4", [
      CHANGE_CHANNEL,
      `${this.id}`,
      `${this.ctx.node} fields`,
      this.id,
    ]);
  }

  async setIndexedFields(fields: readonly string[]): Promise<void> {
    const next = normalizeIndexedFields(fields);
    const projection = new KeyProjection(next);
    await this.locked(async (sql, before) => {
      await sql("UPDATE amp_stores SET indexed_fields = $2 WHERE id = $1", [this.id, JSON.stringify(next)]);
      let after = "";
      for (;;) {
        const rows = await sql<{ id: string; doc: Buffer }>(
          "SELECT id, doc FROM amp_docs WHERE store = $1 AND id > $2 ORDER BY id LIMIT $3",
          [this.id, after, PAGE],
        );
        if (rows.length === 0) break;
        await sql(
          `UPDATE amp_docs SET keys = k.keys::jsonb FROM unnest($2::text[], $3::text[]) AS k (id, keys)
           WHERE amp_docs.store = $1 AND amp_docs.id = k.id`,
          [
            this.id,
            rows.map((r) => r.id),
            rows.map((r) => JSON.stringify(projection.keys(decodeStored(r.doc)))),
          ],
        );
        after = rows[rows.length - 1]!.id;
      }
      for (const field of before) if (!next.includes(field)) await sql(dropIndexSql(this.id, field));
      for (const field of next) await sql(createIndexSql(this.id, field));
      await this.announceFields(sql);
    });
    this.fields = next;
    this.projection = projection;
  }

  subscribe(listener: ChangeListener): () => void {
    return this.feed.subscribe(listener);
  }

  async getMeta<T>(key: string): Promise<T | undefined> {
    const [row] = await this.ctx.db.query<{ value: T }>(
      "SELECT value FROM amp_meta WHERE store = $1 AND key = $2",
      [this.id, `app:${key}`],
    );
    return row?.value;
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    await this.ctx.db.query(
      "INSERT INTO amp_meta (store, key, value) VALUES ($1, $2, $3) ON CONFLICT (store, key) DO UPDATE SET value = EXCLUDED.value",
      [this.id, `app:${key}`, JSON.stringify(value)],
    );
  }

  async close(): Promise<void> {
    this.ctx.onClose(this);
    await this.remote;
  }

  /**
   * Another node committed to this store (its notification): the sequence moves, and the batch
   * is read from `amp_changes` and emitted to this node's subscribers, in order.
   */
  notified(seq: number, kind: string): void {
    this.lastSeq = Math.max(this.lastSeq, seq);
    if (kind === "fields") {
      this.remote = this.remote
        .then(() => this.reloadFields())
        .catch((err: unknown) => this.remoteFailed(err));
      return;
    }
    void this.catchUp(seq);
  }

  /**
   * Emits, in order, the logged batches after the last one emitted up to `target`: another
   * node's notification, or every batch missed while the LISTEN connection was down (those
   * still in the log). Batches no one listens for are skipped.
   */
  catchUp(target: number): Promise<void> {
    this.remote = this.remote
      .then(async () => {
        if (target <= this.fedSeq) return;
        if (this.feed.size > 0) {
          const rows = await this.ctx.db.query<{ seq: string; changes: Buffer }>(
            "SELECT seq, changes FROM amp_changes WHERE store = $1 AND seq > $2 AND seq <= $3 ORDER BY seq",
            [this.id, this.fedSeq, target],
          );
          for (const row of rows) {
            this.fedSeq = Number(row.seq);
            this.feed.emit({ app: this.app, seq: this.fedSeq, changes: readChangeLog(row.changes) });
          }
        }
        this.fedSeq = Math.max(this.fedSeq, target);
      })
      .catch((err: unknown) => this.remoteFailed(err));
    return this.remote;
  }

  private async reloadFields(): Promise<void> {
    const [row] = await this.ctx.db.query<{ indexed_fields: string[] }>(
      "SELECT indexed_fields FROM amp_stores WHERE id = $1",
      [this.id],
    );
    if (row) this.fields = row.indexed_fields;
  }

  private remoteFailed(err: unknown): void {
    this.ctx.logger.warn({ err, app: this.app }, "reading another node's change failed");
  }
}

/**
 * A batch as `amp_changes` keeps it: `[{op, id, doc?}]` with each document as its stored
 * msgpack bytes (already encoded for `amp_docs`, so not encoded twice).
 */
function changeLog(
  changes: readonly DocumentChange[],
  final: ReadonlyMap<string, MixMap | undefined>,
  encoded: ReadonlyMap<string, Uint8Array>,
): Buffer {
  const entries: MixValue[] = changes.map((c) =>
    c.op === "delete"
      ? { op: "delete", id: c.id }
      : { op: "put", id: c.id, doc: final.get(c.id) === c.doc ? encoded.get(c.id)! : encodeMsgpack(c.doc) },
  );
  const bytes = encodeMsgpack(entries);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Buffers as one, with their lengths: a fresh ArrayBuffer of its own (never a slice of Node's
 * shared pool), so it can be handed to the worker rather than copied.
 */
function joined(parts: readonly Uint8Array[]): [Uint8Array, number[]] {
  const lengths = parts.map((p) => p.byteLength);
  const all = new Uint8Array(lengths.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.byteLength;
  }
  return [all, lengths];
}

function readChangeLog(bytes: Buffer): DocumentChange[] {
  const entries = decodeMsgpack(new Uint8Array(bytes)) as { op: string; id: string; doc?: Uint8Array }[];
  return entries.map((e) =>
    e.op === "put" && e.doc !== undefined
      ? { op: "put", id: e.id, doc: decodeStored(e.doc) }
      : { op: "delete", id: e.id },
  );
}
