import type { Records } from "@amp/records";
import type { PostgresDatabase } from "@amp/records/postgres";
import type { Logger } from "pino";

/** Connections of the node's one pool, shared by the apps engine and the records. */
const POOL_SIZE = 10;

interface Shared {
  readonly opening: Promise<PostgresDatabase>;
  users: number;
}

/**
 * Each node's databases by URL: one pool and one LISTEN connection per database, however many
 * of its components use it. A node is its configuration object (the one its components share),
 * so several nodes in one process (tests) keep theirs apart, as separate processes would.
 */
const nodes = new WeakMap<object, Map<string, Shared>>();

/** A use of the node's database on `url`; the last `release` closes it. */
export interface DatabaseLease {
  readonly database: PostgresDatabase;
  release(): Promise<void>;
}

/**
 * The node's database on `url` (--database-url), opened by the first component that asks
 * (start-up errors are `DatabaseStartupError`s) and shared with the others: the apps engine
 * and the records (secrets, signing keys, auth) use one pool and one LISTEN connection.
 */
export async function leaseDatabase(node: object, url: string, logger: Logger): Promise<DatabaseLease> {
  const databases = nodes.get(node) ?? new Map<string, Shared>();
  nodes.set(node, databases);
  let shared = databases.get(url);
  if (!shared) {
    const opening = import("@amp/records/postgres").then(({ PostgresDatabase }) =>
      PostgresDatabase.connect({ url, logger: logger.child({ component: "database" }), poolSize: POOL_SIZE }),
    );
    shared = { opening, users: 0 };
    databases.set(url, shared);
    opening.catch(() => {
      if (databases.get(url) === shared) databases.delete(url);
    });
  }
  shared.users++;
  let database: PostgresDatabase;
  try {
    database = await shared.opening;
  } catch (err) {
    shared.users--;
    throw err;
  }
  let released = false;
  const lease = shared;
  return {
    database,
    async release() {
      if (released) return;
      released = true;
      if (--lease.users > 0) return;
      if (databases.get(url) === lease) databases.delete(url);
      await database.close();
    },
  };
}

/**
 * The records several nodes share, on PostgreSQL; loaded only with --database-url. `node` (its
 * configuration) shares the database with the node's other components; without it, its own.
 */
export async function openSharedRecords(url: string, logger: Logger, node: object = {}): Promise<Records> {
  const { PostgresRecords } = await import("@amp/records/postgres");
  const lease = await leaseDatabase(node, url, logger);
  let records: Awaited<ReturnType<typeof PostgresRecords.open>>;
  try {
    records = await PostgresRecords.open(lease.database, logger.child({ component: "records" }));
  } catch (err) {
    await lease.release();
    throw err;
  }
  logger.info("auth: secrets and signing keys in PostgreSQL");
  return {
    engine: records.engine,
    open: (namespace) => records.open(namespace),
    async close() {
      await records.close();
      await lease.release();
    },
  };
}
