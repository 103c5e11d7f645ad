import { createHash } from "node:crypto";

/** What the cache remembers of a token that passed full verification. */
export interface CachedVerification<T> {
  /** The verification result handed out on a hit. */
  readonly value: T;
  /** Who signed it: our own key or the central issuer's. */
  readonly source: "local" | "central";
  /** The signing key's `kid`: the entry dies with the key. */
  readonly kid: string;
  /** The token's `exp`, in seconds since the epoch. */
  readonly exp: number;
  /** The token's revocation id (`RevocationList.idOf`), so a hit checks revocation without hashing again. */
  readonly revocationId: string;
  /** The `amp_plugin` claim, re-checked on every hit. */
  readonly plugin: string | undefined;
}

/**
 * A bounded, least-recently-used map of verified tokens, keyed by the token's SHA-256 (the
 * token itself is never kept). It only stores; `TokenService` decides what may be served
 * (expiry, revocation, the key still trusted) on every hit.
 */
export class VerifiedTokenCache<T> {
  readonly #entries = new Map<string, CachedVerification<T>>();

  /** `maxEntries` 0 turns the cache off. */
  constructor(readonly maxEntries = 10_000) {
    if (!(Number.isSafeInteger(maxEntries) && maxEntries >= 0)) {
      throw new RangeError("maxEntries must be a whole number ≥ 0");
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cache key of a token: its SHA-256, base64. */
  keyOf(token: string): string {
    return createHash("sha256").update(token).digest("base64");
  }

  get(key: string): CachedVerification<T> | undefined {
    const entry = this.#entries.get(key);
    if (entry) {
      // Most recently used last: the bound evicts from the front.
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  set(key: string, entry: CachedVerification<T>): void {
    if (this.maxEntries === 0) return;
    this.#entries.delete(key);
    while (this.#entries.size >= this.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    this.#entries.set(key, entry);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Drops every entry `drop` answers true for (e.g. those of a key no longer trusted). */
  purge(drop: (entry: CachedVerification<T>) => boolean): number {
    let removed = 0;
    for (const [key, entry] of this.#entries) {
      if (drop(entry)) {
        this.#entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.#entries.clear();
  }
}
