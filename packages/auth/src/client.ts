/**
 * The browser-safe face of amp auth (`@amp/auth/client`): read a token's claims,
 * attach the bearer to requests, and renew the token before it expires. No Node
 * imports: it runs in browsers, workers and Node alike.
 */

export interface TokenClaims {
  sub?: string;
  iss?: string;
  aud?: string | string[];
  exp?: number;
  iat?: number;
  [claim: string]: unknown;
}

/**
 * The claims of a JWT, decoded but NOT verified: for display and expiry timing only.
 * Servers verify; clients must not make access decisions on this.
 */
export function decodeClaims(token: string): TokenClaims {
  const part = token.split(".")[1];
  if (part === undefined || token.split(".").length !== 3) throw new TypeError("not a JWT");
  const b64 = part
    .replace(/-/g, "+")
    .replace(/_/g, "/")
    .padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  const claims: unknown = JSON.parse(new TextDecoder().decode(bytes));
  if (claims === null || typeof claims !== "object" || Array.isArray(claims))
    throw new TypeError("JWT payload is not an object");
  return claims as TokenClaims;
}

export interface AmpAuthClientOptions {
  /** The amp server, e.g. "https://amp.example.com". */
  baseUrl: string;
  accessToken?: string;
  /** When present, renewal uses the refresh_token grant; otherwise the renew grant with the access token. */
  refreshToken?: string;
  /** Renew when the token has less than this left. Default 60 s. */
  renewBeforeSeconds?: number;
  /** Called with every new token pair, e.g. to store it. */
  onTokens?: (tokens: { accessToken: string; refreshToken?: string }) => void;
  fetch?: typeof fetch;
  now?: () => number;
}

/** Error of a failed renewal, with the server's `{error: {code, message}}`. */
export class AmpAuthError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "AmpAuthError";
  }
}

/** Holds a token pair, attaches the bearer and renews ahead of expiry (one renewal at a time). */
export class AmpAuthClient {
  private accessToken: string | undefined;
  private refreshToken: string | undefined;
  private renewing: Promise<string> | undefined;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;

  constructor(private readonly options: AmpAuthClientOptions) {
    this.accessToken = options.accessToken;
    this.refreshToken = options.refreshToken;
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? Date.now;
  }

  get token(): string | undefined {
    return this.accessToken;
  }

  /** The current token's claims (unverified), or undefined without a token. */
  claims(): TokenClaims | undefined {
    return this.accessToken === undefined ? undefined : decodeClaims(this.accessToken);
  }

  setTokens(accessToken: string | undefined, refreshToken?: string): void {
    this.accessToken = accessToken;
    this.refreshToken = refreshToken;
  }

  /** Whether the token expires within the renewal window. */
  needsRenewal(): boolean {
    const exp = this.claims()?.exp;
    const before = this.options.renewBeforeSeconds ?? 60;
    return exp !== undefined && exp * 1000 - this.now() < before * 1000;
  }

  /** A token good for at least the renewal window, renewing first when needed. */
  async currentToken(): Promise<string | undefined> {
    if (this.accessToken !== undefined && this.needsRenewal()) await this.renew();
    return this.accessToken;
  }

  /** `fetch` with `Authorization: Bearer <token>`, renewed ahead of expiry. */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const token = await this.currentToken();
    const headers = new Headers(init.headers);
    if (token !== undefined) headers.set("Authorization", `Bearer ${token}`);
    return this.fetchFn(input, { ...init, headers });
  }

  /** Exchanges the current token (or refresh token) at `/x/token` for a fresh one. */
  renew(): Promise<string> {
    this.renewing ??= this.doRenew().finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  private async doRenew(): Promise<string> {
    const body = new URLSearchParams();
    if (this.refreshToken !== undefined) {
      body.set("grant_type", "refresh_token");
      body.set("refresh_token", this.refreshToken);
    } else if (this.accessToken !== undefined) {
      body.set("grant_type", "urn:amp:params:grant-type:renew");
      body.set("token", this.accessToken);
    } else {
      throw new AmpAuthError("invalid_request", "no token to renew", 0);
    }
    const res = await this.fetchFn(new URL("/x/token", this.options.baseUrl), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: body.toString(),
    });
    const json = (await res.json().catch(() => ({}))) as {
      access_token?: string;
      refresh_token?: string;
      error?: { code?: string; message?: string };
    };
    if (!res.ok || typeof json.access_token !== "string") {
      throw new AmpAuthError(
        json.error?.code ?? "renew_failed",
        json.error?.message ?? `HTTP ${res.status}`,
        res.status,
      );
    }
    this.accessToken = json.access_token;
    if (json.refresh_token !== undefined) this.refreshToken = json.refresh_token;
    this.options.onTokens?.({ accessToken: this.accessToken, refreshToken: this.refreshToken });
    return this.accessToken;
  }
}
