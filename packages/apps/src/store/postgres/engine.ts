import { randomBytes } from "node:crypto";
import { checkDatabaseUrl, isUnavailable, PostgresDatabase } from "@amp/records/postgres";
import pg from "pg";
import type { Logger } from "pino";
import { AppsError, DatabaseStartupError } from "../../errors.js";
import { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from "../document.js";
import { drain } from "../drain.js";
import type { AppBuild, OpenedEngine, StorageEngine } from "../engine.js";
import { normalizeIndexedFields } from "../index-set.js";
import { DEFAULT_INLINE_BUDGET } from "../lmdb-document-store.js";
import { DEFAULT_MAX_EXAMINED } from "../query-executor.js";
import { QueryThread } from "../query-thread.js";
import { Database, isUniqueViolation } from "./database.js";
import { CHANGE_CHANNEL, PostgresDocumentStore, type StoreContext, type StoreRow } from "./document-store.js";
import { createIndexSql, indexName } from "./index-keys.js";
import { migrate } from "./migrations.js";

export interface PostgresEngineOptions {
  /** `postgres://user:password@host:port/database` (or `postgresql://`). */
  readonly url: string;
  readonly logger: Logger;
  readonly documentLimits?: Partial<DocumentLimits>;
  readonly maxExamined?: number;
  /** Scans of more than this many documents decode and filter their pages on the query worker (default 256). */
  readonly inlineBudget?: number;
  /** Connections in the pool (default 10) when the engine opens its own `database`. */
  readonly poolSize?: number;
  /**
   * The node's database, shared with its other components (one pool, one LISTEN connection);
   * the caller closes it. Without it the engine opens its own on `url`.
   */
  readonly database?: PostgresDatabase;
}

/** A build left this long without being registered is a crashed one (removed at the next start). */
const ORPHAN_AGE = "1 hour";

/**
 * Opens the PostgreSQL engine: checks the URL, connects, migrates the schema (under an advisory
 * lock), starts listening for other nodes' changes and reads the registry. Start-up failures are
 * `DatabaseStartupError`s (`bad_database_url`, `database_unreachable`, `database_refused`,
 * `schema_too_new`), and nothing is left open.
 */
export async function openPostgresEngine(options: PostgresEngineOptions): Promise<OpenedEngine> {
  checkDatabaseUrl(options.url);
  if (options.database) {
    await migrateOnPool(options.database, options.url);
    return openEngine(options, new Database(options.database, false, options.logger));
  }
  const client = new pg.Client({ connectionString: options.url, connectionTimeoutMillis: 10_000 });
  client.on("error", () => {}); // a failure surfaces through connect/query below
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw startupError(err, options.url);
  }
  try {
    await migrate(client);
  } catch (err) {
    throw startupError(err, options.url);
  } finally {
    await client.end().catch(() => {});
  }
  const database = await PostgresDatabase.connect({
    url: options.url,
    logger: options.logger,
    poolSize: options.poolSize,
  });
  return openEngine(options, new Database(database, true, options.logger));
}

async function migrateOnPool(database: PostgresDatabase, url: string): Promise<void> {
  try {
    const client = await database.pool.connect();
    try {
      await migrate(client);
    } finally {
      client.release();
    }
  } catch (err) {
    throw startupError(err, url);
  }
}

async function openEngine(options: PostgresEngineOptions, db: Database): Promise<OpenedEngine> {
  const engine = new PostgresEngine(options, db);
  try {
    await engine.start();
    return {
      engine,
      admin: await drain(engine.admin.allDocuments()),
      meta: await drain(engine.meta.allDocuments()),
    };
  } catch (err) {
    await engine.close().catch(() => {});
    throw startupError(err, options.url);
  }
}

/** The server's host and port for messages: never the password. */
function where(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
}

function startupError(err: unknown, url: string): DatabaseStartupError {
  if (err instanceof DatabaseStartupError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isUnavailable(err)) {
    return new DatabaseStartupError(
      "database_unreachable",
      `PostgreSQL at ${where(url)} does not answer: ${message}`,
      {
        cause: err,
      },
    );
  }
  return new DatabaseStartupError("database_refused", `PostgreSQL at ${where(url)} refused amp: ${message}`, {
    cause: err,
  });
}

class PostgresEngine implements StorageEngine {
  private readonly ctx: StoreContext;
  /** Open stores by store id: where other nodes' notifications go. */
  private readonly open = new Map<number, Set<PostgresDocumentStore>>();
  private unlisten: (() => void) | undefined;
  private readonly queryThread: QueryThread;
  private systemStores: { admin: PostgresDocumentStore; meta: PostgresDocumentStore } | undefined;

  constructor(
    private readonly options: PostgresEngineOptions,
    private readonly db: Database,
  ) {
    this.queryThread = new QueryThread(options.logger);
    this.ctx = {
      db: this.db,
      logger: options.logger,
      limits: { ...DEFAULT_DOCUMENT_LIMITS, ...options.documentLimits },
      maxExamined: options.maxExamined ?? DEFAULT_MAX_EXAMINED,
      thread: this.queryThread,
      inlineBudget: options.inlineBudget ?? DEFAULT_INLINE_BUDGET,
      node: randomBytes(6).toString("hex"),
      onClose: (store) => {
        const stores = this.open.get(store.id);
        stores?.delete(store);
        if (stores?.size === 0) this.open.delete(store.id);
      },
    };
  }

  get admin(): PostgresDocumentStore {
    return this.systemStores!.admin;
  }

  get meta(): PostgresDocumentStore {
    return this.systemStores!.meta;
  }

  async start(): Promise<void> {
    await this.listen();
    this.systemStores = {
      admin: await this.openStore("_rmx_admin"),
      meta: await this.openStore("_rmx_meta"),
    };
  }

  /**
   * The node's LISTEN connection hears every store's commits. Whenever listening (re)starts
   * (the server restarted), each open store replays the batches it missed from the log (the
   * registry's included, so its ACL and app list catch up too).
   */
  private async listen(): Promise<void> {
    const notifications = this.db.shared.notifications;
    this.unlisten = notifications.subscribe(CHANGE_CHANNEL, (payload) => {
      if (payload === undefined) this.catchUpAll();
      else this.notified(payload);
    });
    await notifications.ready();
    if (!notifications.listening) throw new Error("cannot LISTEN for other nodes' changes");
  }

  private catchUpAll(): void {
    for (const stores of this.open.values()) {
      for (const store of stores) {
        store
          .currentSeq()
          .then((seq) => store.catchUp(seq))
          .catch(() => {}); // the server is down: listening again brings another catch-up
      }
    }
  }

  private notified(payload: string): void {
    const [id, seq, node, kind] = payload.split(" ");
    if (node === this.ctx.node || id === undefined || seq === undefined || kind === undefined) return;
    for (const store of this.open.get(Number(id)) ?? []) store.notified(Number(seq), kind);
  }

  async openStore(app: string): Promise<PostgresDocumentStore> {
    const [row] = await this.db.query<StoreRow>(
      "SELECT id, instance, seq, indexed_fields FROM amp_stores WHERE name = $1",
      [app],
    );
    if (!row) throw new AppsError("not_found", "no such app");
    return this.track(new PostgresDocumentStore(this.ctx, app, row));
  }

  private track(store: PostgresDocumentStore): PostgresDocumentStore {
    let stores = this.open.get(store.id);
    if (!stores) {
      stores = new Set();
      this.open.set(store.id, stores);
    }
    stores.add(store);
    return store;
  }

  async beginBuild(app: string, indexedFields: readonly string[]): Promise<AppBuild> {
    const fields = normalizeIndexedFields(indexedFields);
    const row = await this.db.transaction(async (sql) => {
      const [created] = await sql<StoreRow>(
        `INSERT INTO amp_stores (name, instance, indexed_fields) VALUES (NULL, $1, $2)
         RETURNING id, instance, seq, indexed_fields`,
        [randomBytes(6).toString("hex"), JSON.stringify(fields)],
      );
      for (const field of fields) await sql(createIndexSql(Number(created!.id), field));
      return created!;
    });
    return { app, store: this.track(new PostgresDocumentStore(this.ctx, app, row)) };
  }

  async commitBuild(build: AppBuild): Promise<void> {
    const store = build.store as PostgresDocumentStore;
    try {
      await this.db.query("UPDATE amp_stores SET name = $1 WHERE id = $2", [build.app, store.id]);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      await this.discardBuild(build);
      throw new AppsError("conflict", `app ${build.app} exists`);
    }
    await store.close();
  }

  async discardBuild(build: AppBuild): Promise<void> {
    const store = build.store as PostgresDocumentStore;
    await store.close();
    await this.dropStore(store.id);
  }

  async dropApp(app: string): Promise<void> {
    const [row] = await this.db.query<{ id: string }>("SELECT id FROM amp_stores WHERE name = $1", [app]);
    if (row) await this.dropStore(Number(row.id));
  }

  /** The store's rows go with it (the small tables by ON DELETE CASCADE), its partial indexes by name. */
  private async dropStore(id: number): Promise<void> {
    await this.db.transaction(async (sql) => {
      for (const table of ["amp_docs", "amp_blob_chunks", "amp_changes"]) {
        await sql(`DELETE FROM ${table} WHERE store = $1`, [id]);
      }
      const [row] = await sql<{ indexed_fields: string[] }>(
        "DELETE FROM amp_stores WHERE id = $1 RETURNING indexed_fields",
        [id],
      );
      for (const field of row?.indexed_fields ?? [])
        await sql(`DROP INDEX IF EXISTS ${indexName(id, field)}`);
    });
  }

  async removeOrphans(registered: (app: string) => boolean): Promise<void> {
    const rows = await this.db.query<{ id: string; name: string | null }>(
      `SELECT id, name FROM amp_stores WHERE created_at < now() - interval '${ORPHAN_AGE}'
         AND (name IS NULL OR name NOT LIKE '\\_rmx\\_%')`,
    );
    for (const row of rows) {
      if (row.name !== null && registered(row.name)) continue;
      this.options.logger.warn({ app: row.name, store: row.id }, "removing unregistered app storage");
      await this.dropStore(Number(row.id));
    }
  }

  async close(): Promise<void> {
    this.unlisten?.();
    await this.queryThread.close();
    await this.db.close();
  }
}
