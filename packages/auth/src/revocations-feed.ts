/**
 * Revocations shared by several nodes: each node keeps its own list (LMDB, mirrored in memory, so
 * `has` stays a `Map` lookup on every request) and the feed carries what the others revoke.
 * Engines: `MemoryRevocationHub` (nodes in one process: tests) and `RedisRevocationFeed`
 * (`@amp/auth/redis-revocations`). Both pass `test/revocations.conformance.test.ts`.
 */
export interface RevocationFeed {
  /** Tells the other nodes about a revocation made here (`expiresAt`: the token's `exp`, seconds). */
  announce(id: string, expiresAt: number): Promise<void>;
  /**
   * Hands `apply` every revocation still in force, then each one another node announces from now
   * on. Resolves once the ones in force were applied.
   */
  follow(apply: (id: string, expiresAt: number) => void): Promise<void>;
  close(): Promise<void>;
}

/** The longest revocation id a feed carries (`RevocationList.idOf` stays under 600 characters). */
export const MAX_REVOCATION_ID = 1024;

/** Whether a revocation from a feed is one to apply: a bounded id and an expiry in seconds. */
export function isRevocation(id: unknown, expiresAt: unknown): id is string {
  return (
    typeof id === "string" &&
    id.length > 0 &&
    id.length <= MAX_REVOCATION_ID &&
    typeof expiresAt === "number" &&
    Number.isFinite(expiresAt)
  );
}

/** Nodes in one process sharing revocations: each `feed()` is one node's handle. */
export class MemoryRevocationHub {
  readonly #revoked = new Map<string, number>();
  readonly #followers = new Set<{ apply: (id: string, expiresAt: number) => void }>();

  feed(): RevocationFeed {
    const self = { apply: (_id: string, _expiresAt: number) => {} };
    return {
      announce: async (id, expiresAt) => {
        this.#revoked.set(id, expiresAt);
        for (const f of this.#followers) if (f !== self) f.apply(id, expiresAt);
      },
      follow: async (apply) => {
        self.apply = apply;
        this.#followers.add(self);
        const now = Date.now() / 1000 - 60;
        for (const [id, expiresAt] of this.#revoked) if (expiresAt > now) apply(id, expiresAt);
      },
      close: async () => {
        this.#followers.delete(self);
      },
    };
  }
}
