import pg from "pg";
import type { Logger } from "pino";
import { DatabaseStartupError, DatabaseUnavailableError } from "../errors.js";
import { NotificationListener } from "./notifications.js";

/** One statement's rows (a text, or a config: a named, prepared statement). */
export type Query = <T extends pg.QueryResultRow>(
  sql: string | pg.QueryConfig,
  values?: unknown[],
) => Promise<T[]>;

export interface PostgresDatabaseOptions {
  /** `postgres://user:password@host:port/database` (`--database-url`). */
  readonly url: string;
  readonly logger: Logger;
  /** Connections in the pool. Default 10. */
  readonly poolSize?: number;
}

/**
 * A node's PostgreSQL connections, shared by every component on the database (the apps engine,
 * the records): one pool, and one LISTEN connection for all their channels. Every failure to
 * reach the server becomes a `DatabaseUnavailableError` (503) and the pool's `error` events (an
 * idle connection dropped by a restarting server) are logged, never thrown, so the process
 * outlives an outage.
 */
export class PostgresDatabase {
  readonly pool: pg.Pool;
  /** The connection URL (for connections outside the pool). */
  readonly url: string;
  /** Every channel's notifications, on one connection opened at the first subscription. */
  readonly notifications: NotificationListener;
  readonly #logger: Logger;

  private constructor(options: PostgresDatabaseOptions) {
    this.url = options.url;
    this.#logger = options.logger;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    });
    this.pool.on("error", (err) =>
      this.#logger.warn({ err: describe(err) }, "idle PostgreSQL connection lost"),
    );
    this.notifications = new NotificationListener(options.url, options.logger);
  }

  /**
   * Opens the pool and checks the server answers, with a start-up error that says what is wrong
   * (the URL's form, the server unreachable, the login refused). The password never appears in it.
   */
  static async connect(options: PostgresDatabaseOptions): Promise<PostgresDatabase> {
    checkDatabaseUrl(options.url);
    const database = new PostgresDatabase(options);
    try {
      await database.pool.query("SELECT 1");
    } catch (err) {
      await database.pool.end().catch(() => {});
      const where = redactedUrl(options.url);
      const code = (err as { code?: string }).code;
      if (code === "28P01" || code === "28000" || code === "3D000") {
        throw new DatabaseStartupError(
          "database_refused",
          `PostgreSQL at ${where} refused: ${describe(err)}`,
        );
      }
      throw new DatabaseStartupError(
        "database_unreachable",
        `cannot reach PostgreSQL at ${where} (--database-url): ${describe(err)}`,
      );
    }
    return database;
  }

  query: Query = async <T extends pg.QueryResultRow>(sql: string | pg.QueryConfig, values?: unknown[]) => {
    try {
      return (await this.pool.query<T>(sql, values)).rows;
    } catch (err) {
      throw unavailableOr(err);
    }
  };

  /**
   * Runs `body` in one transaction, rolled back when it throws. `first`, a statement without
   * parameters (e.g. a row lock), is sent with the BEGIN in the same round trip; `body` gets its rows.
   */
  async transaction<T>(
    body: (query: Query, firstRows: pg.QueryResultRow[]) => Promise<T>,
    first?: string,
  ): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw unavailableOr(err);
    }
    const query: Query = async <R extends pg.QueryResultRow>(
      sql: string | pg.QueryConfig,
      values?: unknown[],
    ) => {
      try {
        return (await client.query<R>(sql, values)).rows;
      } catch (err) {
        throw unavailableOr(err);
      }
    };
    let broken: Error | undefined;
    try {
      let firstRows: pg.QueryResultRow[] = [];
      if (first === undefined) await query("BEGIN");
      else {
        // A simple query of two statements: the driver answers one result per statement.
        try {
          const results = (await client.query(`BEGIN; ${first}`)) as unknown as pg.QueryResult[];
          firstRows = results[1]?.rows ?? [];
        } catch (err) {
          throw unavailableOr(err);
        }
      }
      const result = await body(query, firstRows);
      await query("COMMIT");
      return result;
    } catch (err) {
      if (err instanceof DatabaseUnavailableError) broken = err;
      else await client.query("ROLLBACK").catch((e: Error) => (broken = e));
      throw err;
    } finally {
      // A connection that failed is destroyed rather than handed out again.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.notifications.close();
    await this.pool.end();
  }
}

/** SQLSTATE classes and client errors that mean "the server did not answer", not "the statement was wrong". */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") {
    if (/^(08|53|57P)/.test(code)) return true;
    if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENOTFOUND"].includes(code))
      return true;
  }
  return /Connection terminated|connection timeout|connection error|Connection ended|not queryable/i.test(
    err.message,
  );
}

/** `DatabaseUnavailableError` for a failure to reach the server; any other error as it is. */
export function unavailableOr(err: unknown): Error {
  if (isUnavailable(err)) return new DatabaseUnavailableError(err);
  return err instanceof Error ? err : new Error(String(err));
}

/** Refuses (`bad_database_url`) what is not a postgres:// or postgresql:// URL of a sane length. */
export function checkDatabaseUrl(url: string): void {
  if (url.length > 4096) throw new DatabaseStartupError("bad_database_url", "--database-url is too long");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseStartupError(
      "bad_database_url",
      "--database-url is not a URL (postgres://user@host:port/db)",
    );
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new DatabaseStartupError(
      "bad_database_url",
      `--database-url must be postgres:// or postgresql://, not ${parsed.protocol}//`,
    );
  }
}

/** The URL without its password, for messages. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparseable URL)";
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
