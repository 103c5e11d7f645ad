import { type ErrorBody, errorBody as edgeErrorBody, HttpError } from "@amp/http-edge";

/**
 * Every failure of the auth core is an `AuthError` with a stable `code` and an HTTP
 * status. Messages never contain a token or a key. A 401 carries its `WWW-Authenticate`
 * challenge (RFC 6750), which the HTTP edge sends with it.
 */
export class AuthError extends HttpError {
  declare readonly code: AuthErrorCode;
  declare readonly status: 400 | 401 | 403 | 429 | 500 | 503;
  constructor(
    code: AuthErrorCode,
    message: string,
    status: 400 | 401 | 403 | 429 | 500 | 503 = 401,
    options?: ErrorOptions,
  ) {
    super(status, code, message, {
      ...options,
      ...(status === 401
        ? { headers: { "WWW-Authenticate": `Bearer error="invalid_token", error_description="${code}"` } }
        : {}),
    });
  }
}

export type AuthErrorCode =
  | "token_invalid"
  | "token_expired"
  | "token_not_yet_valid"
  | "token_revoked"
  | "token_plugin_deleted"
  | "invalid_request"
  | "bad_request"
  | "invalid_grant"
  | "unsupported_grant_type"
  | "rate_limited"
  | "issuer_unavailable"
  | "internal";

/** The `{error: {code, message}}` body of an auth error (the HTTP edge's envelope). */
export function errorBody(err: AuthError): ErrorBody {
  return edgeErrorBody(err.code, err.message);
}
