/**
 * Short-lived entries that can be taken once: login state (OIDC/OAuth2 state, nonce, PKCE
 * verifier), passkey challenges and amp authorization codes. Each must never be accepted twice
 * and expires after a time-to-live fixed by the store. Two engines pass one conformance suite:
 * `MemorySingleUseStore` (in-process, the default) and `RedisSingleUseStore` (`@amp/auth/redis`,
 * shared by several amp nodes).
 *
 * Keys are 1-512 characters; `put` refuses any other, `take` answers `undefined` for them.
 * Values must survive JSON (the Redis engine stores them as JSON).
 */
export interface SingleUseStore<T> {
  put(key: string, value: T): Promise<void>;
  /** Removes and returns the entry; `undefined` when unknown, already taken, or expired. */
  take(key: string): Promise<T | undefined>;
}

/** Makes the store of one kind of entry (`name`, e.g. "pending-login") with its time-to-live. */
export type SingleUseStoreFactory = <T>(name: string, ttlMs: number) => SingleUseStore<T>;

export const MAX_KEY_LENGTH = 512;

/** Whether `key` is one a store accepts. */
export function isStoreKey(key: unknown): key is string {
  return typeof key === "string" && key.length > 0 && key.length <= MAX_KEY_LENGTH;
}

/** Throws for a key `put` must refuse. */
export function checkStoreKey(key: unknown): asserts key is string {
  if (!isStoreKey(key)) throw new RangeError(`a store key is a string of 1-${MAX_KEY_LENGTH} characters`);
}

/** Throws for a time-to-live a store must refuse. */
export function checkTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs < 1)
    throw new RangeError("a time-to-live is a whole number of ms ≥ 1");
}

/**
 * The in-process engine: a map whose entries expire after `ttlMs`. Holds at most
 * `maxEntries`; the oldest entries go first, so a flood of starts cannot exhaust memory.
 */
export class MemorySingleUseStore<T> implements SingleUseStore<T> {
  readonly #entries = new Map<string, { value: T; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { ttlMs: number; maxEntries?: number; now?: () => number }) {
    checkTtl(options.ttlMs);
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  async put(key: string, value: T): Promise<void> {
    checkStoreKey(key);
    this.#sweep();
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, expiresAt: this.#now() + this.#ttlMs });
  }

  async take(key: string): Promise<T | undefined> {
    if (!isStoreKey(key)) return undefined;
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    return entry.expiresAt > this.#now() ? entry.value : undefined;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Drops expired entries from the front (entries are in insertion, hence expiry, order). */
  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt > now) break;
      this.#entries.delete(key);
    }
  }
}

/** The in-process engine for every kind of entry; `now` for tests. */
export function memorySingleUseStores(options: { now?: () => number } = {}): SingleUseStoreFactory {
  return <T>(_name: string, ttlMs: number) => new MemorySingleUseStore<T>({ ttlMs, now: options.now });
}
