import { createHash } from "node:crypto";
import type { AmpUser } from "@amp/auth";

/**
 * Remembers recently verified tokens so a reconnect storm does not re-run signature checks.
 * Keyed by the token's SHA-256 (the token itself is never kept); an entry lives for `ttlMs` and
 * never past the token's own `exp`, so a revocation takes effect within `ttlMs`.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, { user: AmpUser; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  #key(token: string): string {
    return createHash("sha256").update(token).digest("base64");
  }

  get(token: string): AmpUser | undefined {
    if (this.ttlMs <= 0) return undefined;
    const key = this.#key(token);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.user;
  }

  set(token: string, user: AmpUser): void {
    if (this.ttlMs <= 0) return;
    const exp = typeof user.claims.exp === "number" ? user.claims.exp * 1000 : Number.POSITIVE_INFINITY;
    const until = Math.min(Date.now() + this.ttlMs, exp);
    if (this.#entries.size >= this.maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!); // the oldest
    }
    this.#entries.set(this.#key(token), { user, until });
  }
}
