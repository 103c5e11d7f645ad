import { createHash } from "node:crypto";
import type { RecordStore } from "@amp/records";
import type { RevocationFeed } from "./revocations-feed.js";
import { type RevocationRecord, readRevocation, type StoredRevocation } from "./revocations-record.js";

/** Prefix of the marks that make refresh tokens single-use (kept in the store only, never in memory). */
const USED = "u:";

/**
 * Revoked tokens, persisted with their expiry so the list only holds tokens that
 * could still verify, and whose token it was, when and by whom it was revoked (`RevocationRecord`;
 * a plain expiry as earlier versions wrote is read too). Keys are hashes, so the store never holds a token.
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
  /** Each revocation's `exp`: what `has` reads on every request, kept a number for speed. */
  private readonly revoked = new Map<string, number>();
  /** The whole record (whose, when, by whom), read only by `list`. */
  private readonly records = new Map<string, RevocationRecord>();
  private feed: RevocationFeed | undefined;
  private readonly unwatch: () => void;

  private constructor(
    private readonly db: RecordStore<StoredRevocation>,
    private readonly now: () => number,
  ) {
    this.unwatch = db.watch((key) => void this.reload(key));
  }

  static async open(db: RecordStore<StoredRevocation>, now: () => number): Promise<RevocationList> {
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
          if (!entry.key.startsWith(USED)) this.mirror(entry.key, entry.value);
        }
      } else if (!key.startsWith(USED)) {
        this.mirror(key, await this.db.get(key));
      }
    } catch {
      // The store is down: revocations already mirrored stay in force; the watch tells us again.
    }
  }

  /** Keeps a stored revocation in memory; a value that is not one (no finite `exp`) is ignored. */
  private mirror(id: string, value: unknown): void {
    const revocation = readRevocation(value);
    if (revocation) this.remember(id, revocation);
  }

  private remember(id: string, revocation: RevocationRecord): void {
    this.revoked.set(id, revocation.exp);
    this.records.set(id, revocation);
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
  list(limit: number, after = ""): ({ id: string } & RevocationRecord)[] {
    return [...this.records]
      .filter(([id]) => id > after && this.has(id))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, limit)
      .map(([id, revocation]) => ({ id, ...revocation }));
  }

  /**
   * Revokes until `exp` (seconds since the epoch, the token's), noting whose token it was and who
   * revoked it (dropped when not a user id of at most 256 characters) and when; announced to the feed.
   */
  async add(id: string, details: Omit<RevocationRecord, "revokedAt">): Promise<void> {
    const revocation = readRevocation({ ...details, revokedAt: Math.floor(this.now() / 1000) });
    if (!revocation) throw new RangeError("a revocation needs the token's expiry");
    this.remember(id, revocation); // in effect at once, before the write lands
    await this.db.put(id, revocation);
    if (++this.revokesSincePrune >= 1000) await this.prune();
    await this.feed?.announce(id, revocation);
  }

  /**
   * Among several nodes: revocations made here are announced on `feed`, and the other nodes'
   * (those in force now, then each new one) are applied here as soon as they arrive.
   */
  async share(feed: RevocationFeed): Promise<void> {
    this.feed = feed;
    await feed.follow((id, revocation) => {
      const known = this.revoked.get(id) ?? 0;
      if (revocation.exp * 1000 <= this.now() - 60_000 || known >= revocation.exp) return;
      this.remember(id, revocation);
      // Kept here too, so a restart without Redis still refuses it.
      this.db.put(id, revocation).catch(() => undefined);
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
      // A value that is not a revocation (no finite `exp`) is left alone, as the mirror ignores it.
      const exp = readRevocation(value)?.exp;
      if (exp !== undefined && exp < cutoff) {
        await this.db.delete(key);
        this.revoked.delete(key);
        this.records.delete(key);
        removed++;
      }
    }
    return removed;
  }
}
