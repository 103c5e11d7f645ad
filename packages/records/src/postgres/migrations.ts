import type pg from "pg";
import { DatabaseStartupError } from "../errors.js";
import type { PostgresDatabase } from "./database.js";

/** One step of a component's schema; append steps, never edit one that has shipped. */
export interface Migration {
  readonly version: number;
  readonly sql: string;
}

/** Any fixed number: every amp node takes this session-level advisory lock to migrate. */
const MIGRATION_LOCK = 0x616d70; // "amp"

/**
 * Brings `component`'s tables to its last step under `pg_advisory_lock`, so nodes starting
 * together migrate once: the first applies the steps (each in its own transaction), the others
 * wait, then find nothing to do. Each component (apps, records, …) keeps its own version in
 * `amp_migrations`. A database newer than this code is refused (`schema_too_new`).
 */
export async function migrate(
  database: PostgresDatabase,
  component: string,
  steps: readonly Migration[],
): Promise<number> {
  const client = await database.pool.connect();
  try {
    return await migrateOn(client, component, steps);
  } finally {
    client.release();
  }
}

/** `migrate` on a connection the caller holds (e.g. before its pool exists). */
export async function migrateOn(
  client: pg.ClientBase,
  component: string,
  steps: readonly Migration[],
): Promise<number> {
  await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
  try {
    await client.query(
      `CREATE TABLE IF NOT EXISTS amp_migrations (component text PRIMARY KEY, version integer NOT NULL)`,
    );
    const rows = await client.query<{ version: number }>(
      "SELECT version FROM amp_migrations WHERE component = $1",
      [component],
    );
    let current = rows.rows[0]?.version ?? 0;
    const known = steps[steps.length - 1]?.version ?? 0;
    if (current > known) {
      throw new DatabaseStartupError(
        "schema_too_new",
        `the database's ${component} schema is version ${current}, newer than this amp knows (${known}): run a newer amp`,
      );
    }
    for (const step of steps) {
      if (step.version <= current) continue;
      await client.query("BEGIN");
      try {
        await client.query(step.sql);
        await client.query(
          `INSERT INTO amp_migrations (component, version) VALUES ($1, $2)
           ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version`,
          [component, step.version],
        );
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
