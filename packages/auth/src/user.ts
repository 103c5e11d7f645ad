/**
 * The acting user, as every package sees it. `@amp/auth`'s middleware puts one
 * on each request (`c.get("user")`); `@amp/apps`, `@amp/broker` and `@amp/track`
 * take it for every access decision.
 */
export interface AmpUser {
  /** The user name: a login name, the root user, or `anon-<id>` for a caller without a token. */
  readonly id: string;
  /** True for `anon-*` callers (no token presented). */
  readonly anonymous: boolean;
  /** True for the configured root user (`RMX_ROOT_USER`). */
  readonly root: boolean;
  /** Roles granted by the token's `roles` claim (strings only); absent or empty for most users. */
  readonly roles?: readonly string[];
  /** The verified token's claims (empty for anonymous callers). Never logged whole. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Hono context variables set by the auth middleware. */
export interface AuthVariables {
  user: AmpUser;
}
