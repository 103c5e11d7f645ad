import { type PostgresDatabase, type Query, unavailableOr } from "@amp/records/postgres";
import type { Logger } from "pino";
import { AppsError } from "../../errors.js";
import { PointReader } from "./point-reader.js";

export type { Query };

/**
 * The engine's connections: the node's `PostgresDatabase` (one pool and one LISTEN connection,
 * shared with the records when the server passes its own; failures to reach the server are
 * `DatabaseUnavailableError`s, 503) and the point reads' own pipelined connection.
 */
export class Database {
  readonly query: Query;
  readonly transaction: PostgresDatabase["transaction"];
  readonly #reader: PointReader;

  /** `owned`: opened for this engine alone, so closed with it; else the caller closes it. */
  constructor(
    readonly shared: PostgresDatabase,
    private readonly owned: boolean,
    logger: Logger,
  ) {
    this.query = shared.query;
    this.transaction = (body, first) => shared.transaction(body, first);
    this.#reader = new PointReader(shared.url, { logger });
  }

  /** One document's stored bytes, or undefined (the hot path of GET …/documents/{id}). */
  readDoc(store: number, id: string): Promise<Buffer | undefined> {
    return this.#reader.get(store, id).catch((err: unknown) => Promise.reject(unavailableOr(err)));
  }

  async close(): Promise<void> {
    await this.#reader.close();
    if (this.owned) await this.shared.close();
  }
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
