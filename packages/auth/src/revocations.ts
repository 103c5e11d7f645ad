import { createHash } from "node:crypto";
import type { Database } from "lmdb";

/**
 * Revoked tokens, persisted with their expiry so the list only holds tokens that
 * could still verify. Keys are hashes, so the store never holds a token.
 */
export class RevocationList {
  private revokesSincePrune = 0;

  constructor(
    private readonly db: Database<number, string>,
    private readonly now: () => number,
  ) {
    this.prune();
  }

  /** The id of a token: its issuer and jti (hashed when long), or a hash of the whole token when it has no jti. */
  static idOf(issuer: string, jti: string | undefined, token: string): string {
    if (jti === undefined) return `t:${createHash("sha256").update(token).digest("base64url")}`;
    const id = `j:${issuer}\u0000${jti}`;
    // LMDB keys are limited to ~2 KB; our own ids (URL + UUID) never come close.
    return id.length <= 512 ? id : `h:${createHash("sha256").update(id).digest("base64url")}`;
  }

  has(id: string): boolean {
    const expiresAt = this.db.get(id);
    return expiresAt !== undefined && expiresAt * 1000 > this.now() - 60_000;
  }

  /** Revokes until `expiresAt` (seconds since the epoch, the token's `exp`). */
  async add(id: string, expiresAt: number): Promise<void> {
    await this.db.put(id, expiresAt);
    if (++this.revokesSincePrune >= 1000) this.prune();
  }

  /** Revokes unless already revoked; false when it was (used to make refresh tokens single-use). */
  async addIfAbsent(id: string, expiresAt: number): Promise<boolean> {
    return this.db.transactionSync(() => {
      if (this.db.get(id) !== undefined) return false;
      this.db.putSync(id, expiresAt);
      return true;
    });
  }

  /** Drops entries whose tokens have expired (with a minute's margin for clock skew). */
  prune(): number {
    this.revokesSincePrune = 0;
    const cutoff = (this.now() - 60_000) / 1000;
    let removed = 0;
    for (const { key, value } of this.db.getRange({})) {
      if (value < cutoff) {
        this.db.removeSync(key);
        removed++;
      }
    }
    return removed;
  }
}
