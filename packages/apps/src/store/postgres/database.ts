import { DatabaseUnavailableError } from "@amp/records";
import { isUnavailable } from "@amp/records/postgres";
import pg from "pg";
import type { Logger } from "pino";
import { AppsError } from "../../errors.js";

/** One statement's rows, typed by the caller. */
export type Rows<T> = T[];

/** A query function: on the pool, or on one client inside a transaction. */
export type Query = <T extends pg.QueryResultRow>(
  sql: string | pg.QueryConfig,
  values?: unknown[],
) => Promise<Rows<T>>;

/**
 * The engine's connections: a pool for statements and transactions, with every failure to
 * reach the server turned into `DatabaseUnavailableError` (503). The pool's `error` events (an idle
 * connection dropped by a restarting server) are logged, never thrown: the process stays up.
 */
export class Database {
  readonly pool: pg.Pool;

  constructor(
    readonly url: string,
    private readonly logger: Logger,
    poolSize = 10,
  ) {
    this.pool = new pg.Pool({
      connectionString: url,
      max: poolSize,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    });
    this.pool.on("error", (err) => this.logger.warn({ err }, "idle PostgreSQL connection lost"));
  }

  query: Query = async <T extends pg.QueryResultRow>(sql: string | pg.QueryConfig, values?: unknown[]) => {
    try {
      return (await this.pool.query<T>(sql, values)).rows;
    } catch (err) {
      throw mapError(err);
    }
  };

  /**
   * Runs `body` in one transaction (rolled back when it throws). `first`, a statement without
   * parameters, is sent with the BEGIN in the same round trip; `body` gets its rows.
   */
  async transaction<T>(
    body: (query: Query, firstRows: pg.QueryResultRow[]) => Promise<T>,
    first?: string,
  ): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw mapError(err);
    }
    const query: Query = async <R extends pg.QueryResultRow>(
      sql: string | pg.QueryConfig,
      values?: unknown[],
    ) => {
      try {
        return (await client.query<R>(sql, values)).rows;
      } catch (err) {
        throw mapError(err);
      }
    };
    let broken: unknown;
    try {
      let firstRows: pg.QueryResultRow[] = [];
      if (first === undefined) await query("BEGIN");
      else {
        // A simple query of two statements: the driver answers one result per statement.
        try {
          const results = (await client.query(`BEGIN; ${first}`)) as unknown as pg.QueryResult[];
          firstRows = results[1]?.rows ?? [];
        } catch (err) {
          throw mapError(err);
        }
      }
      const result = await body(query, firstRows);
      await query("COMMIT");
      return result;
    } catch (err) {
      broken = err instanceof DatabaseUnavailableError ? err : undefined;
      if (!broken) await client.query("ROLLBACK").catch((e: unknown) => (broken = e));
      throw err;
    } finally {
      // A connection that failed is not handed out again.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function mapError(err: unknown): Error {
  if (err instanceof AppsError) return err;
  if (isUnavailable(err)) return new DatabaseUnavailableError(err);
  return err instanceof Error ? err : new Error(String(err));
}

/** A SQL string literal (standard_conforming_strings: only quotes are doubled). */
export function sqlLiteral(s: string): string {
  if (s.includes("\0")) throw new AppsError("bad_request", "a NUL character in a name");
  return `'${s.replaceAll("'", "''")}'`;
}

/** PostgreSQL's unique_violation. */
export function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === "23505";
}
