/**
 * Every failure of the auth core is an `AuthError` with a stable `code` and an HTTP
 * status. Messages never contain a token or a key.
 */
export class AuthError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    readonly status: 400 | 401 | 403 | 429 | 500 | 503 = 401,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "AuthError";
  }
}

export type AuthErrorCode =
  | "token_invalid"
  | "token_expired"
  | "token_not_yet_valid"
  | "token_revoked"
  | "token_plugin_deleted"
  | "invalid_request"
  | "invalid_grant"
  | "unsupported_grant_type"
  | "rate_limited"
  | "issuer_unavailable"
  | "internal";

/** The `{error: {code, message}}` body every HTTP answer of the house uses. */
export function errorBody(err: AuthError): { error: { code: string; message: string } } {
  return { error: { code: err.code, message: err.message } };
}
