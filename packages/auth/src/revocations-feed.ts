import type { RevocationRecord } from "./revocations-record.js";

/**
 * Revocations shared by several nodes: each node keeps its own list (LMDB, mirrored in memory, so
 * `has` stays a `Map` lookup on every request) and the feed carries what the others revoke.
 * Engines: `MemoryRevocationHub` (nodes in one process: tests) and `RedisRevocationFeed`
 * (`@amp/auth/redis-revocations`). Both pass `test/revocations.conformance.test.ts`.
 */
export interface RevocationFeed {
  /** Tells the other nodes about a revocation made here (`exp`: the token's, in seconds). */
  announce(id: string, revocation: RevocationRecord): Promise<void>;
  /**
   * Hands `apply` every revocation still in force, then each one another node announces from now
   * on. Resolves once the ones in force were applied. Who and when may be missing (an older
   * node's announcement, or one read back by a node that starts later on Redis).
   */
  follow(apply: (id: string, revocation: RevocationRecord) => void): Promise<void>;
  close(): Promise<void>;
}

/** The longest revocation id a feed carries (`RevocationList.idOf` stays under 600 characters). */
export const MAX_REVOCATION_ID = 1024;

/** Whether an id from a feed is one to apply: a bounded string. */
export function isRevocationId(id: unknown): id is string {
  return typeof id === "string" && id.length > 0 && id.length <= MAX_REVOCATION_ID;
}

/** Nodes in one process sharing revocations: each `feed()` is one node's handle. */
export class MemoryRevocationHub {
  readonly #revoked = new Map<string, RevocationRecord>();
  readonly #followers = new Set<{ apply: (id: string, revocation: RevocationRecord) => void }>();

  feed(): RevocationFeed {
    const self = { apply: (_id: string, _revocation: RevocationRecord) => {} };
    return {
      announce: async (id, revocation) => {
        this.#revoked.set(id, revocation);
        for (const f of this.#followers) if (f !== self) f.apply(id, revocation);
      },
      follow: async (apply) => {
        self.apply = apply;
        this.#followers.add(self);
        const now = Date.now() / 1000 - 60;
        for (const [id, revocation] of this.#revoked) if (revocation.exp > now) apply(id, revocation);
      },
      close: async () => {
        this.#followers.delete(self);
      },
    };
  }
}
