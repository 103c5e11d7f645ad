import { errorBody } from "@amp/http-edge";
import type { Context, MiddlewareHandler } from "hono";

export interface RateLimitOptions {
  /** Requests allowed per client per window. Default 30. */
  limit?: number;
  /** Window length. Default 60 s. */
  windowSeconds?: number;
  /** Clients tracked at most; the oldest windows are dropped past it. Default 10,000. */
  maxClients?: number;
  /** Who a request counts against. Default: the socket's remote address (not X-Forwarded-For). */
  clientKey?: (c: Context) => string;
  now?: () => number;
}

/** The remote address under @hono/node-server, or "unknown" elsewhere. */
export function remoteAddress(c: Context): string {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress ?? "unknown";
}

/** A fixed-window limit per client; past it the answer is 429 `rate_limited` with `Retry-After`. */
export function rateLimit(options: RateLimitOptions = {}): MiddlewareHandler {
  const limit = options.limit ?? 30;
  const windowMs = (options.windowSeconds ?? 60) * 1000;
  const maxClients = options.maxClients ?? 10_000;
  const clientKey = options.clientKey ?? remoteAddress;
  const now = options.now ?? Date.now;
  const windows = new Map<string, { start: number; count: number }>();

  return async (c, next) => {
    const t = now();
    const key = clientKey(c);
    let window = windows.get(key);
    if (!window || t - window.start >= windowMs) {
      windows.delete(key);
      if (windows.size >= maxClients) windows.delete(windows.keys().next().value!);
      window = { start: t, count: 0 };
      windows.set(key, window);
    }
    if (++window.count > limit) {
      c.header("Retry-After", String(Math.ceil((window.start + windowMs - t) / 1000)));
      return c.json(errorBody("rate_limited", "too many requests; try again later"), 429);
    }
    await next();
  };
}
