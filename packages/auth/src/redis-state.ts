import { isIP } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { HttpError } from "@amp/http-edge";
import { Redis } from "ioredis";
import { checkStoreKey, checkTtl, isStoreKey, type SingleUseStore } from "./login/single-use-store.js";
import { checkCounterInput, type RateLimitCounter } from "./rate-limit.js";

/**
 * The Redis engine of the short-lived auth state several amp nodes must share: pending logins,
 * passkey challenges, login codes (`RedisSingleUseStore`) and rate-limit counts
 * (`RedisRateLimitCounter`). Entries expire by Redis TTLs; `take` is one atomic GETDEL, so an
 * entry is handed out once across every node. Keys are namespaced under `prefix`.
 */

/** A single-use store on Redis: SET … PX on put, GETDEL on take. */
export class RedisSingleUseStore<T> implements SingleUseStore<T> {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlMs: number;

  constructor(redis: Redis, options: { prefix: string; ttlMs: number }) {
    checkTtl(options.ttlMs);
    this.#redis = redis;
    this.#prefix = options.prefix;
    this.#ttlMs = options.ttlMs;
  }

  async put(key: string, value: T): Promise<void> {
    checkStoreKey(key);
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError("a stored value must be JSON");
    await unavailableOnFailure(this.#redis.set(this.#prefix + key, json, "PX", this.#ttlMs));
  }

  async take(key: string): Promise<T | undefined> {
    if (!isStoreKey(key)) return undefined;
    const json = await unavailableOnFailure(this.#redis.getdel(this.#prefix + key));
    if (json === null) return undefined;
    try {
      return JSON.parse(json) as T;
    } catch {
      return undefined; // not ours (another writer under our prefix): as good as absent
    }
  }
}

// INCR, and on a window's first request its expiry; answers the count and the ms left.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
`;

/** Fixed-window counts on Redis: one key per client and window, INCR and PEXPIRE in one script. */
export class RedisRateLimitCounter implements RateLimitCounter {
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(redis: Redis, options: { prefix: string }) {
    this.#redis = redis;
    this.#prefix = options.prefix;
  }

  async hit(key: string, windowMs: number): Promise<{ count: number; resetAt: number }> {
    checkCounterInput(key, windowMs);
    const [count, ttl] = (await unavailableOnFailure(
      this.#redis.eval(HIT_SCRIPT, 1, this.#prefix + key, windowMs),
    )) as [number, number];
    return { count, resetAt: Date.now() + ttl };
  }
}

/**
 * The TLS options of a `rediss://` URL (undefined for `redis://`). The server's certificate is
 * verified, against Node's CA store plus the PEM file NODE_EXTRA_CA_CERTS names, for the URL's
 * host; that host is also sent as SNI, by which managed services route (not an IP address: RFC
 * 6066 forbids one there, and Node warns). The broker's `redisOptions` makes the same two lines:
 * it does not load this module, which loads ioredis.
 */
export function redisTlsOptions(url: URL): ConnectionOptions | undefined {
  if (url.protocol !== "rediss:") return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return isIP(host) ? {} : { servername: host };
}

/** `redis://[user:password@]host[:port][/db]`, with the password replaced: safe to log or show. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return "redis://…";
  }
}

/** Redis did not answer (at start-up, or a command while it is down): a 503 the client may retry. */
export class RedisUnavailableError extends HttpError {
  constructor(message: string, options?: ErrorOptions) {
    super(503, "redis_unavailable", message, { ...options, headers: { "retry-after": "1" } });
  }
}

/** A command's failure (after ioredis' own retries) as a RedisUnavailableError, never a 500. */
async function unavailableOnFailure<T>(command: Promise<T>): Promise<T> {
  try {
    return await command;
  } catch (error) {
    throw new RedisUnavailableError("the shared state (Redis) is unavailable; retry shortly", {
      cause: error,
    });
  }
}

/**
 * A connection to Redis that answered a PING: an unreachable server or refused credentials throw
 * a RedisUnavailableError (password redacted) instead of retrying forever. Shared by every Redis
 * engine of the server (auth state, revocations, the track cluster).
 */
export async function connectRedis(url: string, options: { connectTimeoutMs?: number } = {}): Promise<Redis> {
  const parsed = new URL(url);
  const tls = redisTlsOptions(parsed);
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
  const redis = new Redis(url, {
    // Without it ioredis reads rediss:// as `tls: true`: verified, but no SNI.
    ...(tls ? { tls } : {}),
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: 2,
    // Not on PING: a wrong password or an unreachable server must fail start-up, not retry forever.
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  // Each command reports its own failure; the last connection error says why a start failed.
  let lastError: Error | undefined;
  redis.on("error", (error: Error) => {
    lastError = error;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    const why = lastError ?? (error instanceof Error ? error : new Error(String(error)));
    const hint = tls ? tlsHint(why, parsed.hostname, connectTimeoutMs) : "";
    throw new RedisUnavailableError(`Redis at ${redactRedisUrl(url)} is unavailable: ${why.message}${hint}`);
  }
  return redis;
}

/**
 * One connection to Redis for the auth state of this node, and the stores on it. `connect`
 * checks the server answers (and accepts the credentials) before anything uses it.
 */
export class RedisAuthState {
  readonly #redis: Redis;
  readonly #prefix: string;

  private constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  /** Connects and PINGs; throws a RedisUnavailableError (password redacted) when that fails. */
  static async connect(url: string, options: { prefix?: string; connectTimeoutMs?: number } = {}) {
    return new RedisAuthState(await connectRedis(url, options), options.prefix ?? "amp:auth:");
  }

  /** The store of one kind of entry, e.g. `singleUseStore("pending-login", 600_000)`. */
  singleUseStore<T>(name: string, ttlMs: number): SingleUseStore<T> {
    return new RedisSingleUseStore<T>(this.#redis, { prefix: `${this.#prefix}${name}:`, ttlMs });
  }

  /** The counts of one limiter, e.g. `rateLimitCounter("login")`. */
  rateLimitCounter(name: string): RateLimitCounter {
    return new RedisRateLimitCounter(this.#redis, { prefix: `${this.#prefix}rate:${name}:` });
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

/**
 * What an operator can do about a failed TLS connection: trust the server's CA (a certificate
 * Node refused), or check the port speaks TLS (a plain Redis never answers the TLS hello).
 */
function tlsHint(error: Error, host: string, connectTimeoutMs: number): string {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code))
    return ` (TLS: the server's certificate was not accepted for ${host}; give Node its CA in NODE_EXTRA_CA_CERTS)`;
  if (code === "ETIMEDOUT")
    return ` (TLS: no handshake within ${connectTimeoutMs} ms; is that port plain redis:// rather than rediss://?)`;
  return "";
}
