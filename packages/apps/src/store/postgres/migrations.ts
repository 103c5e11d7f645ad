import { migrateOn } from "@amp/records/postgres";
import type pg from "pg";

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

/** Brings the apps tables to `SCHEMA_VERSION` (`@amp/records`' migrations, component "apps"). */
export function migrate(client: pg.ClientBase, migrations = MIGRATIONS): Promise<number> {
  return migrateOn(client, "apps", migrations);
}
