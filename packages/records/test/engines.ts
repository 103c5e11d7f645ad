import { silentLogger, startPostgres, type TestPostgres, tempDir } from "@amp/test-support";
import { LmdbRecords, type Records } from "../src/index.js";
import { PostgresDatabase, PostgresRecords } from "../src/postgres/index.js";

/** A fresh set of record namespaces on one engine, and a second "node" on the same data. */
export interface EngineUnderTest {
  records: Records;
  /** Another process's (or node's) view of the same data. */
  second(): Promise<Records>;
  close(): Promise<void>;
}

export interface Engine {
  readonly name: "lmdb" | "postgres";
  fresh(): Promise<EngineUnderTest>;
  stop(): Promise<void>;
}

export function lmdbEngine(): Engine {
  return {
    name: "lmdb",
    async fresh() {
      const dir = tempDir("amp-records-");
      const opened: LmdbRecords[] = [new LmdbRecords(dir.path)];
      return {
        records: opened[0]!,
        async second() {
          const other = new LmdbRecords(dir.path);
          opened.push(other);
          return other;
        },
        async close() {
          for (const records of opened) await records.close();
          dir.remove();
        },
      };
    },
    async stop() {},
  };
}

/** One PostgreSQL server per test file; a new database per `fresh()`. */
export function postgresEngine(): Engine & { server(): TestPostgres } {
  let server: TestPostgres | undefined;
  let count = 0;
  return {
    name: "postgres",
    server: () => server!,
    async fresh() {
      server ??= await startPostgres();
      const url = await server.createDatabase(`records_${process.pid}_${++count}`);
      const databases: PostgresDatabase[] = [];
      const opened: PostgresRecords[] = [];
      const open = async () => {
        const database = await PostgresDatabase.connect({ url, logger: silentLogger });
        databases.push(database);
        const records = await PostgresRecords.open(database, silentLogger);
        opened.push(records);
        return records;
      };
      const records = await open();
      return {
        records,
        second: open,
        async close() {
          for (const r of opened) await r.close();
          for (const d of databases) await d.close();
        },
      };
    },
    async stop() {
      await server?.stop();
    },
  };
}
