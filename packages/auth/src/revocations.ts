import { createHash } from "node:crypto";
import type { RecordStore } from "@amp/records";
import type { RevocationFeed } from "./revocations-feed.js";

/** Prefix of the marks that make refresh tokens single-use (kept in the store only, never in memory). */
const USED = "u:";

/**
 * Revoked tokens, persisted with their expiry so the list only holds tokens that
 * could still verify. Keys are hashes, so the store never holds a token.
 *
 * Revocations are mirrored in memory, so `has` (asked on every request, cached token or
 * not) is a `Map` lookup. The marks of redeemed refresh tokens, far more numerous, stay
 * in the store only (`useOnce`). The mirror is loaded at open and follows the store's watch:
 * on a store shared by several nodes (PostgreSQL) another node's revocation arrives through
 * it; on LMDB another process's is seen after a restart, and another node's arrives through a
 * `RevocationFeed` (`share`).
 */
export class RevocationList {
  private revokesSincePrune = 0;
  private readonly revoked = new Map<string, number>();
  private feed: RevocationFeed | undefined;
  private readonly unwatch: () => void;

  private constructor(
    private readonly db: RecordStore<number>,
    private readonly now: () => number,
  ) {
    this.unwatch = db.watch((key) => void this.reload(key));
  }

  static async open(db: RecordStore<number>, now: () => number): Promise<RevocationList> {
    const list = new RevocationList(db, now);
    await list.prune();
    await list.reload(undefined);
    return list;
  }

  /** Stops following the store. */
  close(): void {
    this.unwatch();
  }

  /** Mirrors one revocation, or all of them (`undefined`: changes may have been missed). */
  private async reload(key: string | undefined): Promise<void> {
    try {
      if (key === undefined) {
        for (const entry of await this.db.range()) {
          if (!entry.key.startsWith(USED)) this.revoked.set(entry.key, entry.value);
        }
      } else if (!key.startsWith(USED)) {
        const expiresAt = await this.db.get(key);
        if (expiresAt !== undefined) this.revoked.set(key, expiresAt);
      }
    } catch {
      // The store is down: revocations already mirrored stay in force; the watch tells us again.
    }
  }

  /** The id of a token: its issuer and jti (hashed when long), or a hash of the whole token when it has no jti. */
  static idOf(issuer: string, jti: string | undefined, token: string): string {
    if (jti === undefined) return `t:${createHash("sha256").update(token).digest("base64url")}`;
    const id = `j:${issuer}\u0000${jti}`;
    // LMDB keys are limited to ~2 KB; our own ids (URL + UUID) never come close.
    return id.length <= 512 ? id : `h:${createHash("sha256").update(id).digest("base64url")}`;
  }

  /** Whether the token is revoked: an in-memory lookup. */
  has(id: string): boolean {
    const expiresAt = this.revoked.get(id);
    return expiresAt !== undefined && expiresAt * 1000 > this.now() - 60_000;
  }

  /** Revocations in force, in id order after `after`, at most `limit`: read from the in-memory mirror. */
  list(limit: number, after = ""): { id: string; expiresAt: number }[] {
    return [...this.revoked]
      .filter(([id]) => id > after && this.has(id))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, limit)
      .map(([id, expiresAt]) => ({ id, expiresAt }));
  }

  /** Revokes until `expiresAt` (seconds since the epoch, the token's `exp`); announced to the feed. */
  async add(id: string, expiresAt: number): Promise<void> {
    this.revoked.set(id, expiresAt); // in effect at once, before the write lands
    await this.db.put(id, expiresAt);
    if (++this.revokesSincePrune >= 1000) await this.prune();
    await this.feed?.announce(id, expiresAt);
  }

  /**
   * Among several nodes: revocations made here are announced on `feed`, and the other nodes'
   * (those in force now, then each new one) are applied here as soon as they arrive.
   */
  async share(feed: RevocationFeed): Promise<void> {
    this.feed = feed;
    await feed.follow((id, expiresAt) => {
      if (expiresAt * 1000 <= this.now() - 60_000 || (this.revoked.get(id) ?? 0) >= expiresAt) return;
      this.revoked.set(id, expiresAt);
      // Kept here too, so a restart without Redis still refuses it.
      this.db.put(id, expiresAt).catch(() => undefined);
    });
  }

  /**
   * Marks a refresh token redeemed unless it already was or is revoked; false then. What makes
   * refresh tokens single-use: an atomic update, so processes (or nodes) sharing the store agree.
   */
  async useOnce(id: string, expiresAt: number): Promise<boolean> {
    if (this.has(id)) return false;
    return this.db.update([id, USED + id], (current) =>
      current.has(id) || current.has(USED + id)
        ? { result: false }
        : { writes: new Map([[USED + id, expiresAt]]), result: true },
    );
  }

  /** Drops entries whose tokens have expired (with a minute's margin for clock skew). */
  async prune(): Promise<number> {
    this.revokesSincePrune = 0;
    const cutoff = (this.now() - 60_000) / 1000;
    let removed = 0;
    for (const { key, value } of await this.db.range()) {
      if (value < cutoff) {
        await this.db.delete(key);
        this.revoked.delete(key);
        removed++;
      }
    }
    return removed;
  }
}
