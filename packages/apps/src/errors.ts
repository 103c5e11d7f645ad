import { HttpError } from "@amp/http-edge";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Stable codes for every way an apps operation can be refused. */
export type AppsErrorCode =
  | "bad_request"
  | "invalid_name"
  | "invalid_document"
  | "bad_query"
  | "not_found"
  | "forbidden"
  | "conflict"
  | "too_large"
  | "bad_archive"
  | "unsupported_media_type"
  | "unsupported_version"
  | "query_too_costly";

const STATUS: Record<AppsErrorCode, ContentfulStatusCode> = {
  bad_request: 400,
  invalid_name: 400,
  invalid_document: 400,
  bad_query: 400,
  bad_archive: 400,
  not_found: 404,
  forbidden: 403,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  unsupported_version: 400,
  query_too_costly: 422,
};

/** Every refusal from `@amp/apps` is one of these; the HTTP edge answers `{error:{code,message}}` with `status`. */
export class AppsError extends HttpError {
  declare readonly code: AppsErrorCode;
  constructor(code: AppsErrorCode, message: string, options?: ErrorOptions) {
    super(STATUS[code], code, message, options);
  }
}

// The shared database's failures are `@amp/records`' own, one model for every package:
// `DatabaseUnavailableError` (503 `database_unavailable`) and `DatabaseStartupError`.
export { type DatabaseStartupCode, DatabaseStartupError, DatabaseUnavailableError } from "@amp/records";

/**
 * A `.remix` whose manifest declares a format major version this code does not know (newer
 * than `REMIX_FORMAT_VERSION`): refused before anything is imported.
 */
export class UnsupportedRemixVersionError extends AppsError {
  constructor(readonly version: string) {
    super("unsupported_version", `this .remix is format version ${version}; amp reads versions up to 2.x`);
  }
}

/**
 * A query that would examine more documents than the store allows (`maxExamined`): refused
 * before it runs (a scan) or as soon as it passes the limit (an index range). `fields` are the
 * filter's fields the planner could not serve from an index; the message says to index them.
 */
export class QueryTooCostlyError extends AppsError {
  constructor(
    readonly fields: readonly string[],
    readonly limit: number,
    message: string,
  ) {
    super("query_too_costly", message);
  }
}
