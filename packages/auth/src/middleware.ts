import { edgeLoggerOf } from "@amp/http-edge";
import type { Context, MiddlewareHandler } from "hono";
import { AuthError, errorBody } from "./errors.js";
import type { AmpUser, AuthVariables } from "./user.js";

/** What the middleware needs from `TokenService`. */
export interface UserVerifier {
  verify(token: string): Promise<AmpUser>;
  anonymous(): AmpUser;
}

export interface AuthMiddlewareOptions {
  tokens: UserVerifier;
  /** Accept `?token=` (WebSocket clients cannot set headers). Default true. */
  allowQueryToken?: boolean;
}

/**
 * The bearer token of a request: the `Authorization: Bearer` header, else `?token=`.
 * Undefined when neither is present; an `Authorization` header of another scheme is an error,
 * so a malformed credential is never mistaken for none.
 */
export function bearerToken(c: Context, allowQueryToken = true): string | undefined {
  const header = c.req.header("authorization");
  if (header !== undefined) {
    const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header);
    if (!match) throw new AuthError("token_invalid", "Authorization header must be 'Bearer <token>'");
    return match[1];
  }
  if (!allowQueryToken) return undefined;
  const query = c.req.query("token");
  return query === undefined || query === "" ? undefined : query;
}

/** The user of a request: anonymous without a token, else the token's user; throws `AuthError` for a bad token. */
export async function authenticate(c: Context, options: AuthMiddlewareOptions): Promise<AmpUser> {
  const token = bearerToken(c, options.allowQueryToken ?? true);
  return token === undefined ? options.tokens.anonymous() : options.tokens.verify(token);
}

/**
 * Puts the acting user on the context (`c.get("user")`). No token: an anonymous
 * `anon-<id>` user. An invalid, expired or revoked token: 401, never a silent downgrade.
 */
export function authMiddleware(
  options: AuthMiddlewareOptions,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    let user: AmpUser;
    try {
      user = await authenticate(c, options);
    } catch (err) {
      // A failure that is not a refused credential goes to the edge's onError, which logs it.
      if (!(err instanceof AuthError)) throw err;
      if (err.status >= 500)
        edgeLoggerOf(c)?.error({ err: err.cause ?? err, path: c.req.path }, "authentication failed");
      return authErrorResponse(c, err);
    }
    c.set("user", user);
    await next();
  };
}

/** The JSON answer for a failed authentication (401 with a `WWW-Authenticate` challenge). */
export function authErrorResponse(c: Context, err: unknown): Response {
  const auth =
    err instanceof AuthError ? err : new AuthError("internal", "authentication failed", 500, { cause: err });
  for (const [name, value] of Object.entries(auth.headers)) c.header(name, value);
  return c.json(errorBody(auth), auth.status);
}
