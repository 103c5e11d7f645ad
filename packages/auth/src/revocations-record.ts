/** Longest user id kept with a revocation (the token's `sub`, or who revoked it). */
export const MAX_REVOCATION_USER = 256;

/** What is kept of one revocation, in the store and on the feed. */
export interface RevocationRecord {
  /** The revoked token's `exp` (seconds since the epoch): the revocation is dropped after it. */
  exp: number;
  /** Whose token it was: its `sub`. */
  user?: string;
  /** When it was revoked (seconds since the epoch). */
  revokedAt?: number;
  /** Who revoked it, when the route knew. */
  by?: string;
}

/**
 * A stored revocation: a record, or a plain `exp` as earlier versions (and older nodes sharing
 * the store) write. The refresh tokens' single-use marks are plain numbers too.
 */
export type StoredRevocation = number | RevocationRecord;

/**
 * The revocation in a value read from the store or a feed, or undefined when it has no finite
 * `exp` (then it is ignored). A bad optional field is dropped rather than losing the revocation:
 * a revoked token stays refused even when whose it was is unreadable.
 */
export function readRevocation(value: unknown): RevocationRecord | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? { exp: value } : undefined;
  if (typeof value !== "object" || value === null) return undefined;
  const { exp, user, revokedAt, by } = value as Record<string, unknown>;
  if (typeof exp !== "number" || !Number.isFinite(exp)) return undefined;
  return {
    exp,
    ...(isUser(user) ? { user } : {}),
    ...(typeof revokedAt === "number" && Number.isFinite(revokedAt) ? { revokedAt } : {}),
    ...(isUser(by) ? { by } : {}),
  };
}

function isUser(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_REVOCATION_USER;
}
