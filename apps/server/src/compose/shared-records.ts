import type { Records } from "@amp/records";
import type { PostgresDatabase } from "@amp/records/postgres";
import type { Logger } from "pino";

/** Connections of a node's one pool, shared by the apps engine and the records. */
const POOL_SIZE = 10;

/**
 * The database on `url` (--database-url): one pool and one LISTEN connection. Loaded only when
 * asked; start-up errors are `DatabaseStartupError`s.
 */
export async function connectDatabase(url: string, logger: Logger): Promise<PostgresDatabase> {
  const { PostgresDatabase } = await import("@amp/records/postgres");
  return PostgresDatabase.connect({
    url,
    logger: logger.child({ component: "database" }),
    poolSize: POOL_SIZE,
  });
}

/** The records several nodes share (secrets, signing keys, auth), on the node's `database`. */
export async function openSharedRecords(database: PostgresDatabase, logger: Logger): Promise<Records> {
  const { PostgresRecords } = await import("@amp/records/postgres");
  const records = await PostgresRecords.open(database, logger.child({ component: "records" }));
  logger.info("auth: secrets and signing keys in PostgreSQL");
  return {
    engine: records.engine,
    open: (namespace) => records.open(namespace),
    close: () => records.close(),
  };
}

/** The shared records on a database of their own, closed with them (`amp token`, tests). */
export async function openSharedRecordsAt(url: string, logger: Logger): Promise<Records> {
  const database = await connectDatabase(url, logger);
  let records: Records;
  try {
    records = await openSharedRecords(database, logger);
  } catch (err) {
    await database.close();
    throw err;
  }
  return {
    engine: records.engine,
    open: (namespace) => records.open(namespace),
    async close() {
      await records.close();
      await database.close();
    },
  };
}
