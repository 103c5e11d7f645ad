import type { Context, MiddlewareHandler } from "hono";
import { errorBody, LoginError } from "./errors.js";

export interface RateLimitOptions {
  /** Requests allowed per client and window. Default 30. */
  max?: number;
  /** Window length. Default 60 s. */
  windowMs?: number;
  /** Who a request counts against. Default: the peer address of the Node socket. */
  clientKey?: (c: Context) => string;
  now?: () => number;
}

/** The socket's peer address under `@hono/node-server`; one shared bucket elsewhere. */
function peerAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? "unknown";
}

/**
 * A fixed-window limiter for login endpoints: past `max` requests in a window the
 * client gets 429 `rate_limited` with `Retry-After`. Buckets are pruned as
 * windows end, so memory stays bounded by the clients of one window.
 */
export function rateLimit(options: RateLimitOptions = {}): MiddlewareHandler {
  const max = options.max ?? 30;
  const windowMs = options.windowMs ?? 60_000;
  const clientKey = options.clientKey ?? peerAddress;
  const now = options.now ?? Date.now;
  let windowStart = now();
  let counts = new Map<string, number>();
  return async (c, next) => {
    const t = now();
    if (t - windowStart >= windowMs) {
      windowStart = t;
      counts = new Map();
    }
    const key = clientKey(c);
    const count = (counts.get(key) ?? 0) + 1;
    counts.set(key, count);
    if (count > max) {
      const retryAfter = String(Math.ceil((windowStart + windowMs - t) / 1000));
      const error = new LoginError("rate_limited", "too many login requests; try again later", 429);
      return c.json(errorBody(error), 429, { "Retry-After": retryAfter });
    }
    await next();
  };
}
