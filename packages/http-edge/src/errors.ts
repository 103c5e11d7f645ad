import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * The one code for each generic HTTP failure, whatever package answers it. A package keeps
 * its own codes only for what is its own (e.g. `token_expired`, `Track-noSession`).
 */
export const GENERIC_CODES = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  timeout: 408,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  headers_too_large: 431,
  internal: 500,
  bad_gateway: 502,
  unavailable: 503,
  gateway_timeout: 504,
} as const satisfies Record<string, ContentfulStatusCode>;

export type GenericCode = keyof typeof GENERIC_CODES;

const CODE_BY_STATUS = new Map<number, GenericCode>(
  Object.entries(GENERIC_CODES).map(([code, status]) => [status, code as GenericCode]),
);

/** The generic code of an HTTP status: its own where the table has one, else `bad_request` or `internal`. */
export function codeForStatus(status: number): GenericCode {
  return CODE_BY_STATUS.get(status) ?? (status < 500 ? "bad_request" : "internal");
}

export interface HttpErrorOptions extends ErrorOptions {
  /** Response headers that go with this error (e.g. `WWW-Authenticate`, `Retry-After`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The base of every error an amp route answers on purpose: its `status`, stable `code` and
 * message reach the client as `{error: {code, message}}`; the `cause` is only logged (for a 5xx).
 * Each package's error class (AppsError, AuthError, LoginError, SecretsError, TrackError) extends it.
 */
export class HttpError extends Error {
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    options: HttpErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.headers = options.headers ?? {};
  }
}

/** An `HttpError` with a generic code and the status the table gives it. */
export function httpError(code: GenericCode, message: string, options?: HttpErrorOptions): HttpError {
  return new HttpError(GENERIC_CODES[code], code, message, options);
}

/** The body of a request went past its route's limit (counted in bytes, while it streamed). */
export class BodyTooLargeError extends HttpError {
  constructor(readonly limit: number) {
    super(413, "too_large", `request body larger than ${limit} bytes`, {
      headers: { Connection: "close" },
    });
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

/** The `{error: {code, message}}` envelope every amp HTTP error answers with. */
export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
