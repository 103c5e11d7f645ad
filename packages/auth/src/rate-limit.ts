import { errorBody } from "@amp/http-edge";
import type { Context, MiddlewareHandler } from "hono";

/**
 * Fixed-window request counters, one window per key. Two engines pass one conformance suite:
 * `MemoryRateLimitCounter` (in-process, the default) and `RedisRateLimitCounter`
 * (`@amp/auth/redis`, one count shared by several amp nodes).
 */
export interface RateLimitCounter {
  /**
   * Counts one request against `key` and answers the count in its current window and when
   * that window ends (ms since the epoch). A window starts at a key's first request and lasts
   * `windowMs`. Keys are 1-512 characters; others throw a RangeError.
   */
  hit(key: string, windowMs: number): Promise<{ count: number; resetAt: number }>;
}

/** Throws for a key or window a counter must refuse. */
export function checkCounterInput(key: unknown, windowMs: number): asserts key is string {
  if (typeof key !== "string" || key.length === 0 || key.length > 512)
    throw new RangeError("a rate-limit key is a string of 1-512 characters");
  if (!Number.isInteger(windowMs) || windowMs < 1)
    throw new RangeError("a rate-limit window is a whole number of ms ≥ 1");
}

/** The in-process engine; tracks at most `maxClients` keys, dropping the oldest windows past it. */
export class MemoryRateLimitCounter implements RateLimitCounter {
  readonly #windows = new Map<string, { start: number; count: number }>();
  readonly #maxClients: number;
  readonly #now: () => number;

  constructor(options: { maxClients?: number; now?: () => number } = {}) {
    this.#maxClients = options.maxClients ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetAt: number }> {
    checkCounterInput(key, windowMs);
    const t = this.#now();
    let window = this.#windows.get(key);
    if (!window || t - window.start >= windowMs) {
      this.#windows.delete(key);
      if (this.#windows.size >= this.#maxClients) this.#windows.delete(this.#windows.keys().next().value!);
      window = { start: t, count: 0 };
      this.#windows.set(key, window);
    }
    window.count++;
    return { count: window.count, resetAt: window.start + windowMs };
  }
}

export interface RateLimitOptions {
  /** Requests allowed per client per window. Default 30. */
  limit?: number;
  /** Window length. Default 60 s. */
  windowSeconds?: number;
  /** Clients tracked at most by the in-memory counter; the oldest windows are dropped past it. Default 10,000. */
  maxClients?: number;
  /** Who a request counts against. Default: the socket's remote address (not X-Forwarded-For). */
  clientKey?: (c: Context) => string;
  /** Where the counts live; in memory by default, e.g. Redis to share them between nodes. */
  counter?: RateLimitCounter;
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
  const clientKey = options.clientKey ?? remoteAddress;
  const now = options.now ?? Date.now;
  const counter =
    options.counter ?? new MemoryRateLimitCounter({ maxClients: options.maxClients, now: options.now });

  return async (c, next) => {
    const key = clientKey(c).slice(0, 512) || "unknown";
    const { count, resetAt } = await counter.hit(key, windowMs);
    if (count > limit) {
      c.header("Retry-After", String(Math.max(1, Math.ceil((resetAt - now()) / 1000))));
      return c.json(errorBody("rate_limited", "too many requests; try again later"), 429);
    }
    await next();
  };
}
