import {
  createRemoteJWKSet,
  type ExportedJWKSCache,
  errors,
  type JWTPayload,
  jwksCache,
  jwtVerify,
} from "jose";
import { AuthError } from "./errors.js";

export interface RemoteIssuerOptions {
  /** The `iss` its tokens carry. */
  issuer: string;
  /** Its JWKS; https, or http on loopback only. */
  jwksUrl: string;
  /** The `aud` its tokens must carry for us. Default: our own audience. */
  audience?: string | string[];
  /** Accepted algorithms. Default EdDSA, ES256, RS256. */
  algorithms?: string[];
  /** Minimum time between JWKS refetches when an unknown kid arrives. Default 30 s. */
  refetchCooldownMs?: number;
  /** How long a fetched JWKS is trusted without a refetch. Default 10 min. */
  cacheMaxAgeMs?: number;
  /** JWKS request timeout. Default 5 s. */
  timeoutMs?: number;
}

/**
 * Verifies the tokens of another issuer (the central Remix issuer, or an issuer trusted
 * for token exchange) through its JWKS, fetched lazily, cached, and refetched when a
 * token names a kid the cache does not hold.
 */
export class RemoteIssuer {
  readonly issuer: string;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;
  private readonly algorithms: string[];
  /** jose writes each applied JWKS fetch here (`uat`, `jwks`). */
  private readonly fetched: Partial<ExportedJWKSCache> = {};
  private kids: { uat: number | undefined; set: Set<unknown> } = { uat: undefined, set: new Set() };

  constructor(
    private readonly options: RemoteIssuerOptions,
    private readonly defaults: { audience: string; clockSkewSeconds: number },
  ) {
    const url = new URL(options.jwksUrl);
    const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
    if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
      throw new TypeError(`jwksUrl of ${options.issuer} must be https (got ${url.origin})`);
    }
    this.issuer = options.issuer;
    this.algorithms = options.algorithms ?? ["EdDSA", "ES256", "RS256"];
    if (this.algorithms.some((a) => a === "none" || a.startsWith("HS"))) {
      throw new TypeError("remote issuers must use asymmetric algorithms");
    }
    this.jwks = createRemoteJWKSet(url, {
      cooldownDuration: options.refetchCooldownMs ?? 30_000,
      cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
      timeoutDuration: options.timeoutMs ?? 5_000,
      [jwksCache]: this.fetched as ExportedJWKSCache,
    });
  }

  /**
   * Whether a token verified earlier with key `kid` may be trusted again without a signature
   * check: the JWKS held is within its max age (past it, a full verification refetches it) and
   * still lists `kid` (a key the issuer dropped stops at the next fetch, as without a cache).
   */
  holdsKey(kid: string): boolean {
    if (!this.jwks.fresh) return false;
    if (this.kids.uat !== this.fetched.uat) {
      this.kids = { uat: this.fetched.uat, set: new Set(this.fetched.jwks?.keys.map((k) => k.kid)) };
    }
    return this.kids.set.has(kid);
  }

  async verify(token: string, currentDate: Date): Promise<JWTPayload> {
    const { payload, protectedHeader } = await jwtVerify(token, this.jwks, {
      issuer: this.issuer,
      audience: this.options.audience ?? this.defaults.audience,
      algorithms: this.algorithms,
      clockTolerance: this.defaults.clockSkewSeconds,
      requiredClaims: ["sub", "exp"],
      currentDate,
    }).catch((err: unknown) => {
      // The token may be fine: we cannot tell while the issuer's JWKS is out of reach.
      const unreachable =
        err instanceof errors.JWKSTimeout ||
        err instanceof errors.JWKSInvalid ||
        !(err instanceof errors.JOSEError);
      if (unreachable) {
        throw new AuthError("issuer_unavailable", `cannot fetch the keys of ${this.issuer}`, 503, {
          cause: err,
        });
      }
      throw err;
    });
    // Another amp's refresh tokens (typ rt+jwt) must not pass as access tokens here.
    if (protectedHeader.typ !== undefined && /^rt\+jwt$/i.test(protectedHeader.typ)) {
      throw new AuthError("token_invalid", "a refresh token is not an access token");
    }
    return payload;
  }
}
