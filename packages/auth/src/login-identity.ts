/**
 * The contracts between the auth core and the login plugins (`src/login/`). The core
 * never imports the plugins: each side programs against these shapes.
 */

/** Who a successful login proved to be. `/x/token` turns it into an amp token. */
export interface LoginIdentity {
  /** The amp user name. */
  user: string;
  /** Claims to carry into the amp token (small, never secrets). */
  claims: Record<string, unknown>;
  /** The plugin configuration id the login came through; absent for passkey logins. */
  plugin?: string;
}

/** Single-use authorization codes that login plugins leave for `/x/token`. */
export interface LoginCodeRedeemer {
  /** The identity behind `code`, once; undefined for an unknown, used or expired code. */
  redeem(code: string): Promise<LoginIdentity | undefined>;
}

export interface IssueOptions {
  /** Extra claims; registered claims (sub, exp, …) cannot be overridden. */
  claims?: Record<string, unknown>;
  /** Lifetime; defaults to the session timeout. */
  ttlSeconds?: number;
  /** The login plugin configuration id; the token dies with that configuration. */
  plugin?: string;
}

/** Signs amp access tokens; `TokenService` satisfies it. */
export interface TokenIssuer {
  issue(user: string, opts?: IssueOptions): Promise<string>;
}
