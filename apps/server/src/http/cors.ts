import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { errorResponse } from "./errors.js";

/** Request headers Remix's web runtime and the amp client send (Elm's Http, `fetch`, conditional GETs). */
export const CORS_ALLOW_HEADERS = [
  "Authorization",
  "Content-Type",
  "Accept",
  "Accept-Language",
  "Content-Language",
  "If-None-Match",
  "If-Modified-Since",
  "X-Requested-With",
];

/** Response headers the pages may read: paging, caching, auth challenges, downloads, rate limits. */
export const CORS_EXPOSE_HEADERS = [
  "ETag",
  "X-Next-Cursor",
  "WWW-Authenticate",
  "Retry-After",
  "Content-Disposition",
  "Content-Length",
];

const ALLOW_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

export interface OriginPolicy {
  /** `--cors-origins`: exact origins, or `["*"]`; empty = the server's own origin only. */
  readonly origins: readonly string[];
  /** The server's own public origin (from the base URL). */
  readonly ownOrigin: () => string;
}

/** True when a browser page at `origin` may call the API or open a WebSocket. */
export function originAllowed(policy: OriginPolicy, origin: string, host: string | undefined): boolean {
  if (policy.origins[0] === "*" || policy.origins.includes(origin)) return true;
  if (origin === policy.ownOrigin()) return true;
  // The same origin as the request itself (a page served by this server under another name).
  try {
    const url = new URL(origin);
    return host !== undefined && url.host === host.toLowerCase();
  } catch {
    return false;
  }
}

/**
 * CORS for the public API (`--cors-origins`). Without a setting no CORS header is sent:
 * same-origin pages need none. With one:
 * - a listed origin gets `Access-Control-Allow-Origin: <origin>` (and `Vary: Origin`);
 * - `*` gets `Access-Control-Allow-Origin: *`;
 * - never `Access-Control-Allow-Credentials`: the API takes bearer tokens, not cookies, so a
 *   page never needs to send credentials, and a wildcard can never be credentialed;
 * - a preflight (`OPTIONS` with `Access-Control-Request-Method`) from another origin is refused
 *   with `403 origin_not_allowed` and no allow headers.
 */
export function corsMiddleware(policy: OriginPolicy): MiddlewareHandler {
  if (policy.origins.length === 0) return (_c, next) => next();
  const wildcard = policy.origins[0] === "*";
  const allowed = cors({
    origin: wildcard ? "*" : (origin) => (policy.origins.includes(origin) ? origin : null),
    allowMethods: ALLOW_METHODS,
    allowHeaders: CORS_ALLOW_HEADERS,
    exposeHeaders: CORS_EXPOSE_HEADERS,
    maxAge: 600,
    credentials: false,
  });
  return async (c, next) => {
    const origin = c.req.header("origin");
    if (origin !== undefined && (wildcard || policy.origins.includes(origin))) return allowed(c, next);
    if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined) {
      return errorResponse(c, 403, "origin_not_allowed", "this origin may not call the API (--cors-origins)");
    }
    return next();
  };
}

/**
 * WebSocket upgrades (`/{app}/track.ws`, `/x/broker.ws`) from a browser page: browsers open
 * cross-origin WebSockets without a preflight and CORS does not apply, so the `Origin` header
 * is checked here against the same list. A page of another origin gets `403 origin_not_allowed`
 * before the upgrade. Requests without `Origin` (non-browser clients: MQTT libraries, `ws`,
 * native apps) are not affected: they hold their own token.
 */
export function webSocketOriginCheck(policy: OriginPolicy): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") return next();
    const origin = c.req.header("origin");
    if (origin === undefined || originAllowed(policy, origin, c.req.header("host"))) return next();
    return errorResponse(
      c,
      403,
      "origin_not_allowed",
      "WebSockets from this origin are refused (allow it with --cors-origins)",
    );
  };
}
