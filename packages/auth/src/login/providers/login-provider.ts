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
  /** Hash of the id in the login's browser cookie; the callback must bring that cookie. */
  browserBinding: string;
}

/** How the provider comes back to the callback: a redirect (GET), or a cross-site form post (Apple). */
export type CallbackMode = "redirect" | "form_post";

export function callbackMode(config: { kind: string }): CallbackMode {
  return config.kind === "apple" ? "form_post" : "redirect";
}

/** A provider's answer after a successful code exchange. */
export interface ProviderClaims {
  /** Claims from the ID token, userinfo, or (Snowflake) the token response. */
  claims: Record<string, unknown>;
}
