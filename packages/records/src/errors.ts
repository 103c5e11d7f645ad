import { HttpError } from "@amp/http-edge";

/** The shared database did not answer (down, restarting, unreachable): retry shortly. A 503. */
export class DatabaseUnavailableError extends HttpError {
  constructor(cause: unknown) {
    super(503, "database_unavailable", "the database is unavailable; retry shortly", {
      cause,
      headers: { "retry-after": "1" },
    });
  }
}

/** Why a shared database could not be opened at start-up; the message names the setting. */
export type DatabaseStartupCode =
  | "bad_database_url"
  | "database_unreachable"
  | "database_refused"
  | "schema_too_new";

export class DatabaseStartupError extends Error {
  constructor(
    readonly code: DatabaseStartupCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "DatabaseStartupError";
  }
}

/** A record value this engine cannot store (too large, or not encodable). A 400. */
export class RecordValueError extends HttpError {
  constructor(message: string) {
    super(400, "bad_request", message);
  }
}
