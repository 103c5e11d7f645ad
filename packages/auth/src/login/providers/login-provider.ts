/** What a login start remembers until its callback: single use, short-lived. */
export interface PendingLogin {
  plugin: string;
  state: string;
  /** Sent to OIDC providers (oidc, apple) and checked in the ID token. */
  nonce: string;
  codeVerifier: string;
  returnUrl: string;
  /** The configuration's `updatedAt` at start: a callback after a change is refused. */
  configVersion: string;
}

/** A provider's answer after a successful code exchange. */
export interface ProviderClaims {
  /** Claims from the ID token, userinfo, or (Snowflake) the token response. */
  claims: Record<string, unknown>;
}
