import type pg from "pg";
import { DatabaseStartupError } from "../../errors.js";

/**
 * The schema, as numbered steps applied in order; a database records the last step it has.
 * Append a step to change the schema; never edit one that has shipped.
 */
export const MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  {
    version: 1,
    sql: `
      -- One row per app store (and the registry's two system stores). name is NULL while an app
      -- is being built (create, import), so it is invisible until registered.
      CREATE TABLE amp_stores (
        id bigserial PRIMARY KEY,
        name text COLLATE "C" UNIQUE,
        instance text NOT NULL,
        seq bigint NOT NULL DEFAULT 0,
        indexed_fields jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      -- doc: the document as @amp/codec msgpack (exact Mix values). keys: the JSONB projection the
      -- indexes read, per indexed field the hex of its order-preserving index key.
      -- The bulk tables have no foreign key (its check costs a third of a batch insert): a
      -- store's rows are deleted with it, in the same transaction (engine.ts, dropStore).
      CREATE TABLE amp_docs (
        store bigint NOT NULL,
        id text COLLATE "C" NOT NULL,
        doc bytea NOT NULL,
        keys jsonb NOT NULL,
        PRIMARY KEY (store, id)
      );
      CREATE TABLE amp_meta (
        store bigint NOT NULL REFERENCES amp_stores (id) ON DELETE CASCADE,
        key text COLLATE "C" NOT NULL,
        value jsonb NOT NULL,
        PRIMARY KEY (store, key)
      );
      CREATE TABLE amp_blobs (
        store bigint NOT NULL REFERENCES amp_stores (id) ON DELETE CASCADE,
        ref text COLLATE "C" NOT NULL,
        size bigint NOT NULL,
        PRIMARY KEY (store, ref)
      );
      CREATE TABLE amp_blob_chunks (
        store bigint NOT NULL,
        ref text COLLATE "C" NOT NULL,
        n integer NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (store, ref, n)
      );
      CREATE TABLE amp_files (
        store bigint NOT NULL REFERENCES amp_stores (id) ON DELETE CASCADE,
        name text COLLATE "C" NOT NULL,
        entry jsonb NOT NULL,
        PRIMARY KEY (store, name)
      );
      -- The committed batches, for change feeds on other nodes (pruned to the recent ones).
      CREATE TABLE amp_changes (
        store bigint NOT NULL,
        seq bigint NOT NULL,
        changes bytea NOT NULL,
        PRIMARY KEY (store, seq)
      );
      INSERT INTO amp_stores (name, instance, indexed_fields)
        VALUES ('_rmx_admin', substr(md5(random()::text), 1, 12), '["_rmx_type"]'),
               ('_rmx_meta', substr(md5(random()::text), 1, 12), '["_rmx_type"]');
    `,
  },
];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Any fixed number: every amp node takes this session-level advisory lock to migrate. */
const MIGRATION_LOCK = 0x616d70; // "amp"

/**
 * Brings the database to `SCHEMA_VERSION` under `pg_advisory_lock`, so that nodes starting
 * together migrate once: the first applies the steps (each in its own transaction), the others
 * wait, then find nothing to do. A database newer than this code is refused (`schema_too_new`).
 */
export async function migrate(client: pg.ClientBase, migrations = MIGRATIONS): Promise<number> {
  await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
  try {
    await client.query("CREATE TABLE IF NOT EXISTS amp_schema (version integer NOT NULL)");
    const rows = (await client.query<{ version: number }>("SELECT version FROM amp_schema")).rows;
    let current = rows[0]?.version ?? 0;
    const known = migrations[migrations.length - 1]!.version;
    if (current > known) {
      throw new DatabaseStartupError(
        "schema_too_new",
        `the database's schema is version ${current}, newer than this amp knows (${known}): run a newer amp`,
      );
    }
    for (const step of migrations) {
      if (step.version <= current) continue;
      await client.query("BEGIN");
      try {
        await client.query(step.sql);
        if (current === 0) await client.query("INSERT INTO amp_schema (version) VALUES ($1)", [step.version]);
        else await client.query("UPDATE amp_schema SET version = $1", [step.version]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK").catch(() => {});
        throw err;
      }
      current = step.version;
    }
    return current;
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => {});
  }
}
