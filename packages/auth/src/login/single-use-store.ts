/**
 * An in-memory map whose entries can be taken once and expire after `ttlMs`.
 * Used for login state, passkey challenges and amp authorization codes: each is
 * short-lived and must never be accepted twice. Holds at most `maxEntries`; the
 * oldest entries go first, so a flood of starts cannot exhaust memory.
 */
export class SingleUseStore<T> {
  readonly #entries = new Map<string, { value: T; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: { ttlMs: number; maxEntries?: number; now?: () => number }) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  put(key: string, value: T): void {
    this.#sweep();
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, expiresAt: this.#now() + this.#ttlMs });
  }

  /** Removes and returns the entry; `undefined` when unknown, already taken, or expired. */
  take(key: string): T | undefined {
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
