import type { Records } from "@amp/records";
import type { Logger } from "pino";

/** The records several nodes share, on PostgreSQL; loaded only with --database-url. */
export async function openSharedRecords(url: string, logger: Logger): Promise<Records> {
  const { PostgresDatabase, PostgresRecords } = await import("@amp/records/postgres");
  const database = await PostgresDatabase.connect({
    url,
    logger: logger.child({ component: "records" }),
    poolSize: 4,
  });
  const records = await PostgresRecords.open(database, logger.child({ component: "records" }));
  logger.info("auth: secrets and signing keys in PostgreSQL");
  return {
    engine: records.engine,
    open: (namespace) => records.open(namespace),
    async close() {
      await records.close();
      await database.close();
    },
  };
}
