/**
 * Who a successful login proved to be. The core's `/x/token` turns it into an amp token.
 * Mirrors `LoginIdentity` of `src/login-identity.ts` (owned by the auth core); kept
 * structurally identical so either can stand for the other.
 */
export interface LoginIdentity {
  /** The amp user name. */
  user: string;
  /** Claims to carry into the amp token (small, never secrets). */
  claims: Record<string, unknown>;
  /** The plugin configuration id the login came through; absent for passkey logins. */
  plugin?: string;
}
