import type { KeyObject } from "node:crypto";
import { randomBytes, randomUUID } from "node:crypto";
import { join } from "node:path";
import { LmdbRecordStore, type Records } from "@amp/records";
import { decodeJwt, errors, type JWK, type JWTPayload, SignJWT } from "jose";
import { open, type RootDatabase } from "lmdb";
import { type Logger, pino } from "pino";
import {
  publicKeyObject,
  signatureVerifies,
  splitJws,
  unverifiedPayload,
  verifiedClaims,
} from "./compact-jws.js";
import { AuthError } from "./errors.js";
import type { IssueOptions, LoginIdentity, TokenIssuer } from "./login-identity.js";
import { CARRIED_PROFILE_CLAIMS, withProfileClaims } from "./profile-claims.js";
import { RemoteIssuer, type RemoteIssuerOptions } from "./remote-issuer.js";
import { RevocationList } from "./revocations.js";
import type { RevocationFeed } from "./revocations-feed.js";
import type { RevocationRecord, StoredRevocation } from "./revocations-record.js";
import {
  type KeyVault,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
  type SigningKeyInfo,
  SigningKeys,
} from "./signing-keys.js";
import type { AmpUser } from "./user.js";
import { VerifiedTokenCache } from "./verified-token-cache.js";

export interface TokenServiceOptions {
  /** The database dir; revocations and the issuer name live in `<databaseDir>/auth` (LMDB). */
  databaseDir: string;
  /** Where the signing keys are kept, encrypted: `secrets.scoped("$amp.auth")` from `@amp/secrets`. */
  vault: KeyVault;
  /** `iss` of our tokens. Default: the one stored by the last start, else "amp". Stored when given. */
  issuer?: string;
  /** `aud` of our tokens. Default: as `issuer`. */
  audience?: string;
  /** Signing algorithm. Default: the stored key's, EdDSA (Ed25519) for the first key. A change rotates the key. */
  algorithm?: SigningAlgorithm;
  /** `RMX_SESSION_TIMEOUT`: lifetime of an access token, in seconds. Default 12 h. */
  sessionTimeoutSeconds?: number;
  /** Lifetime of a refresh token. Default 30 days. */
  refreshTokenTtlSeconds?: number;
  /** How long a login may be extended by renew/refresh before a new login is required. Default 30 days. */
  maxSessionSeconds?: number;
  /** Age at which the signing key is replaced. Default 30 days. */
  keyRotationSeconds?: number;
  /** Clock skew allowed on exp/nbf. Default 30 s. */
  clockSkewSeconds?: number;
  /** `RMX_ROOT_USER`: this user name is root. */
  rootUser?: string;
  /** Among several nodes: revocations shared with the others (`RedisRevocationFeed`). */
  revocationFeed?: RevocationFeed;
  /**
   * Records shared by several nodes (`PostgresRecords` from `@amp/records/postgres`): revocations
   * and the single-use marks of refresh tokens live there instead of the database dir.
   */
  records?: Records;
  /** A central issuer whose tokens are accepted directly (and can be exchanged). */
  centralIssuer?: RemoteIssuerOptions;
  /** Issuers whose tokens are accepted only by token exchange at `/x/token`. */
  exchangeIssuers?: RemoteIssuerOptions[];
  /** Maps an exchanged token to an amp user name. Default: its `sub`. */
  exchangeUser?: (claims: JWTPayload, issuer: string) => string;
  /**
   * Whether a login plugin configuration still exists. Tokens carrying an `amp_plugin`
   * claim are rejected when it answers false. Without it, the claim is not checked.
   */
  pluginActive?: (id: string) => boolean | Promise<boolean>;
  /**
   * How many verified access tokens are remembered (LRU, keyed by their SHA-256), so a token
   * seen again skips the signature check. Default 10,000; 0 turns the cache off.
   */
  verifiedTokenCacheSize?: number;
  logger?: Logger;
  /** Clock, for tests. */
  now?: () => number;
}

/** The `@amp/secrets` app that holds the signing keys: `vault: secrets.scoped(AUTH_VAULT_APP)`. */
export const AUTH_VAULT_APP = "$amp.auth";

export type TokenType = "access" | "refresh";

/** What `/x/token` answers (RFC 6749 §5.1 field names). */
export interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  refresh_token?: string;
  issued_token_type?: string;
}

export interface VerifiedToken {
  user: AmpUser;
  payload: JWTPayload;
  /** Who issued it: this server, or the configured central issuer. */
  source: "local" | "central";
}

const TYP = { access: "at+jwt", refresh: "rt+jwt" } as const;
const MAX_TOKEN_CHARS = 8192;
const MAX_CLAIMS_CHARS = 4096;
const MAX_TTL_SECONDS = 366 * 86_400;
/** Claims the service sets itself; callers cannot supply them. */
const REGISTERED = new Set(["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "auth_time", "amp_plugin"]);
const USER_NAME = /^[\p{L}\p{N}\p{P}\p{S}]{1,256}$/u;
/** Claims copied from an exchanged external token. */
const EXCHANGED_CLAIMS = [...CARRIED_PROFILE_CLAIMS, "roles"];

/**
 * Issues and verifies amp tokens: JWTs signed with the server's own rotating keys
 * (EdDSA by default), plus a central issuer's tokens through its JWKS. Every
 * verification checks the algorithm allowlist, issuer, audience, expiry (with a small
 * skew), the persisted revocation list and, for plugin logins, that the plugin still exists.
 */
export class TokenService implements TokenIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly sessionTimeoutSeconds: number;
  private readonly refreshTtl: number;
  private readonly maxSession: number;
  private readonly skew: number;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly central: RemoteIssuer | undefined;
  private readonly exchangeable: RemoteIssuer[];
  private readonly cache: VerifiedTokenCache<VerifiedToken>;
  private cacheKeysVersion: number;
  private cacheHits = 0;
  private cacheMisses = 0;
  /** `node:crypto` verification keys of our signing keys (rebuilt when the keys are re-read). */
  private readonly keyObjects = new WeakMap<{ publicJwk: JWK }, KeyObject>();

  private constructor(
    private readonly options: TokenServiceOptions,
    private readonly env: RootDatabase,
    private readonly keys: SigningKeys,
    private readonly revocations: RevocationList,
    names: { issuer: string; audience: string },
  ) {
    this.issuer = names.issuer;
    this.audience = names.audience;
    this.sessionTimeoutSeconds = options.sessionTimeoutSeconds ?? 12 * 3600;
    this.refreshTtl = options.refreshTokenTtlSeconds ?? 30 * 86_400;
    this.maxSession = options.maxSessionSeconds ?? 30 * 86_400;
    this.skew = options.clockSkewSeconds ?? 30;
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? pino({ level: "silent" });
    const defaults = { audience: this.audience, clockSkewSeconds: this.skew };
    this.central = options.centralIssuer && new RemoteIssuer(options.centralIssuer, defaults);
    this.exchangeable = [
      ...(this.central ? [this.central] : []),
      ...(options.exchangeIssuers ?? []).map((o) => new RemoteIssuer(o, defaults)),
    ];
    this.cache = new VerifiedTokenCache(options.verifiedTokenCacheSize ?? 10_000);
    this.cacheKeysVersion = keys.version;
  }

  static async open(options: TokenServiceOptions): Promise<TokenService> {
    const now = options.now ?? Date.now;
    const logger = options.logger ?? pino({ level: "silent" });
    for (const [name, value] of Object.entries({
      sessionTimeoutSeconds: options.sessionTimeoutSeconds,
      refreshTokenTtlSeconds: options.refreshTokenTtlSeconds,
      maxSessionSeconds: options.maxSessionSeconds,
      keyRotationSeconds: options.keyRotationSeconds,
    })) {
      if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) {
        throw new RangeError(`${name} must be a positive whole number of seconds`);
      }
    }
    const env = open({ path: join(options.databaseDir, "auth"), maxDbs: 4 });
    try {
      const meta = env.openDB<string, string>({ name: "meta" });
      const issuer = options.issuer ?? meta.get("issuer") ?? "amp";
      const audience = options.audience ?? (options.issuer ? undefined : meta.get("audience")) ?? issuer;
      if (options.issuer !== undefined) {
        await meta.put("issuer", issuer);
        await meta.put("audience", audience);
      }
      const session = options.sessionTimeoutSeconds ?? 12 * 3600;
      const refresh = options.refreshTokenTtlSeconds ?? 30 * 86_400;
      const keys = await SigningKeys.open({
        vault: options.vault,
        algorithm: options.algorithm,
        rotateAfterSeconds: options.keyRotationSeconds ?? 30 * 86_400,
        // A replaced key verifies as long as any token it signed can live.
        overlapSeconds: Math.max(session, refresh) + 300,
        now,
        logger,
      });
      const revocations = await RevocationList.open(
        options.records?.open<StoredRevocation>("auth-revocations") ??
          new LmdbRecordStore(env.openDB<StoredRevocation, string>({ name: "revoked" })),
        now,
      );
      if (options.revocationFeed) await revocations.share(options.revocationFeed);
      return new TokenService(options, env, keys, revocations, { issuer, audience });
    } catch (err) {
      await env.close();
      throw err;
    }
  }

  /** An access token for `user`. */
  async issue(user: string, opts: IssueOptions = {}): Promise<string> {
    return this.sign("access", user, {
      claims: opts.claims,
      plugin: opts.plugin,
      ttlSeconds: opts.ttlSeconds ?? this.sessionTimeoutSeconds,
    });
  }

  /** An access and a refresh token for a completed login. */
  async issueSession(identity: LoginIdentity): Promise<TokenResponse> {
    const authTime = this.nowSeconds();
    return this.session(identity.user, publicClaims(identity.claims), identity.plugin, authTime);
  }

  /** Verifies an access token from us or the central issuer and returns its user. Throws `AuthError` (401). */
  async verify(token: string): Promise<AmpUser> {
    return (await this.verifyToken(token, "access")).user;
  }

  /**
   * Verifies a token in full: signature (`node:crypto` for our keys, jose with the JWKS for the
   * central issuer's), algorithm allowlist, `typ`, iss, aud, exp/nbf with the skew, revocation and
   * plugin. A verified access token is then remembered (see `verifiedTokenCacheSize`); when it comes
   * again, the signature and claims are not checked again, but expiry, its key still being trusted,
   * revocation and the plugin are, on every call.
   */
  async verifyToken(token: string, type: TokenType = "access"): Promise<VerifiedToken> {
    if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_CHARS) {
      throw new AuthError("token_invalid", "token is missing or too long");
    }
    const cacheKey = type === "access" && this.cache.maxEntries > 0 ? this.cache.keyOf(token) : undefined;
    if (cacheKey !== undefined) {
      const hit = await this.fromCache(cacheKey);
      if (hit) {
        this.cacheHits++;
        return hit;
      }
      this.cacheMisses++;
    }
    const jws = splitJws(token);
    const kid = typeof jws.header.kid === "string" ? jws.header.kid : undefined;
    // Route by kid when it is one of ours (cheap: the header is parsed already), else by the claimed issuer.
    const issuer = kid !== undefined && this.keys.get(kid) ? this.issuer : unverifiedPayload(jws).iss;
    let payload: JWTPayload;
    let source: VerifiedToken["source"];
    try {
      if (issuer === this.issuer) {
        source = "local";
        const key = kid === undefined ? undefined : (this.keys.get(kid) ?? (await this.keys.find(kid)));
        if (!key) throw new AuthError("token_invalid", "token signed by an unknown key");
        if (!SIGNING_ALGORITHMS.includes(jws.header.alg as SigningAlgorithm)) {
          throw new AuthError("token_invalid", "token algorithm is not allowed");
        }
        if (key.alg !== jws.header.alg)
          throw new AuthError("token_invalid", "token algorithm does not match its key");
        // We never set `crit`; jose refuses the extensions it does not know, and so do we.
        if (jws.header.crit !== undefined)
          throw new AuthError("token_invalid", "token is malformed or not accepted");
        if (!signatureVerifies(jws, key.alg, this.keyObject(key))) {
          throw new AuthError("token_invalid", "token signature does not verify");
        }
        payload = verifiedClaims(jws, {
          issuer: this.issuer,
          audience: this.audience,
          typ: TYP[type],
          requiredClaims: ["sub", "exp", "iat", "jti"],
          clockSkewSeconds: this.skew,
          now: this.nowSeconds(),
        });
      } else if (this.central && issuer === this.central.issuer && type === "access") {
        source = "central";
        payload = await this.central.verify(token, new Date(this.now()));
      } else {
        throw new AuthError("token_invalid", "token is from an issuer this server does not trust");
      }
    } catch (err) {
      throw asAuthError(err);
    }
    const revocationId = await this.checkStillValid(payload, token);
    const verified: VerifiedToken = Object.freeze({ user: this.userOf(payload), payload, source });
    if (cacheKey !== undefined && kid !== undefined && typeof payload.exp === "number") {
      this.cache.set(cacheKey, {
        value: verified,
        source,
        kid,
        exp: payload.exp,
        revocationId,
        plugin: pluginOf(payload),
      });
    }
    return verified;
  }

  /** The verified-token cache: entries now (at most `max`), and verifications served from it or not since open. */
  verifiedTokenCacheStats(): { size: number; max: number; hits: number; misses: number } {
    return {
      size: this.cache.size,
      max: this.cache.maxEntries,
      hits: this.cacheHits,
      misses: this.cacheMisses,
    };
  }

  /**
   * A token verified before, if it may still be trusted: not past `exp` (with the skew), its key
   * still trusted (ours: still held; the central issuer's: in its current, fresh JWKS). Otherwise
   * undefined, and the caller verifies in full (which gives the precise error). Revocation and the
   * plugin are checked on every hit and throw.
   */
  private async fromCache(cacheKey: string): Promise<VerifiedToken | undefined> {
    const entry = this.cache.get(cacheKey);
    if (!entry) return undefined;
    this.dropRetiredKeys();
    const trusted =
      entry.exp > this.nowSeconds() - this.skew &&
      (entry.source === "local"
        ? this.keys.get(entry.kid) !== undefined
        : this.central?.holdsKey(entry.kid) === true);
    if (!trusted) {
      this.cache.delete(cacheKey);
      return undefined;
    }
    if (this.revocations.has(entry.revocationId))
      throw new AuthError("token_revoked", "token has been revoked");
    if (entry.plugin !== undefined) await this.checkPlugin(entry.plugin);
    return entry.value;
  }

  /** When the signing keys were re-read, forgets the tokens of keys no longer held. */
  private dropRetiredKeys(): void {
    if (this.keys.version === this.cacheKeysVersion) return;
    this.cacheKeysVersion = this.keys.version;
    this.cache.purge((e) => e.source === "local" && this.keys.get(e.kid) === undefined);
  }

  private keyObject(key: { publicJwk: JWK }): KeyObject {
    let object = this.keyObjects.get(key);
    if (!object) {
      object = publicKeyObject(key.publicJwk);
      this.keyObjects.set(key, object);
    }
    return object;
  }

  /** Redeems a refresh token (once) for a new access and refresh token. */
  async refresh(refreshToken: string): Promise<TokenResponse> {
    const { payload } = await this.grantToken(refreshToken, "refresh");
    const id = RevocationList.idOf(payload.iss!, payload.jti, refreshToken);
    // Single use: a second redemption (a replayed, possibly stolen token) fails.
    if (!(await this.revocations.useOnce(id, payload.exp!))) {
      throw new AuthError("invalid_grant", "refresh token was already used", 400);
    }
    return this.session(payload.sub!, publicClaims(payload), pluginOf(payload), authTimeOf(payload));
  }

  /** A fresh access token for a current (unexpired) one, within the maximum session length. */
  async renew(accessToken: string): Promise<TokenResponse> {
    const { payload, source } = await this.grantToken(accessToken, "access");
    if (source !== "local")
      throw new AuthError("invalid_grant", "only this server's tokens can be renewed", 400);
    const ttl = this.remainingSession(authTimeOf(payload), this.sessionTimeoutSeconds);
    const access_token = await this.sign("access", payload.sub!, {
      claims: publicClaims(payload),
      plugin: pluginOf(payload),
      authTime: authTimeOf(payload),
      ttlSeconds: ttl,
    });
    return { access_token, token_type: "Bearer", expires_in: ttl };
  }

  /** RFC 8693: an access token of a trusted external issuer becomes an amp access token. */
  async exchange(subjectToken: string): Promise<TokenResponse> {
    let iss: unknown;
    try {
      iss = decodeJwt(subjectToken).iss;
    } catch {
      throw new AuthError("invalid_grant", "subject_token is not a JWT", 400);
    }
    const issuer = this.exchangeable.find((i) => i.issuer === iss);
    if (!issuer)
      throw new AuthError("invalid_grant", "subject_token is from an issuer not trusted for exchange", 400);
    let payload: JWTPayload;
    try {
      payload = await issuer.verify(subjectToken, new Date(this.now()));
      await this.checkStillValid(payload, subjectToken);
    } catch (err) {
      const auth = asAuthError(err);
      if (auth.status >= 500) throw auth;
      throw new AuthError("invalid_grant", `subject_token rejected: ${auth.message}`, 400);
    }
    const user = this.options.exchangeUser?.(payload, issuer.issuer) ?? payload.sub!;
    const claims: Record<string, unknown> = { ext_iss: issuer.issuer };
    for (const name of EXCHANGED_CLAIMS) if (payload[name] !== undefined) claims[name] = payload[name];
    const access_token = await this.sign("access", user, { claims, ttlSeconds: this.sessionTimeoutSeconds });
    return {
      access_token,
      token_type: "Bearer",
      expires_in: this.sessionTimeoutSeconds,
      issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
    };
  }

  /**
   * Revokes an access or refresh token until it expires. Tokens that do not verify
   * (already expired, foreign, malformed) are ignored, as RFC 7009 asks. Returns whether it was revoked now.
   * Kept with it: the token's `sub`, when, and `by` (who revoked it) when the caller knows.
   */
  async revoke(token: string, by?: string): Promise<boolean> {
    for (const type of ["access", "refresh"] as const) {
      try {
        const { payload } = await this.verifyToken(token, type);
        await this.revocations.add(RevocationList.idOf(payload.iss!, payload.jti, token), {
          exp: payload.exp!,
          ...(payload.sub !== undefined ? { user: payload.sub } : {}),
          ...(by !== undefined ? { by } : {}),
        });
        this.logger.info({ sub: payload.sub, jti: payload.jti, type, by }, "token revoked");
        return true;
      } catch (err) {
        if (!(err instanceof AuthError)) throw err;
      }
    }
    return false;
  }

  /** A caller without a token. */
  anonymous(): AmpUser {
    return {
      id: `anon-${randomBytes(8).toString("hex")}`,
      anonymous: true,
      root: false,
      roles: [],
      claims: {},
    };
  }

  /** The public signing keys, for `/x/jwks.json`. */
  jwks(): { keys: object[] } {
    return this.keys.jwks();
  }

  /** The signing keys' ids and dates, for root's `/x/auth/keys`. */
  signingKeys(): SigningKeyInfo[] {
    return this.keys.describe();
  }

  /** Revocations in force (ids, expiry, whose and when), paged in id order, for root's `/x/auth/revocations`. */
  revokedTokens(limit: number, after?: string): ({ id: string } & RevocationRecord)[] {
    return this.revocations.list(limit, after);
  }

  /** Replaces the signing key now; tokens signed by the old one keep verifying until they expire. */
  async rotateKeys(): Promise<void> {
    await this.keys.rotate();
    this.dropRetiredKeys();
  }

  /** Drops revocations of tokens that have expired anyway. */
  pruneRevocations(): Promise<number> {
    return this.revocations.prune();
  }

  async close(): Promise<void> {
    this.revocations.close();
    await this.env.close();
  }

  private async grantToken(token: string, type: TokenType): Promise<VerifiedToken> {
    try {
      return await this.verifyToken(token, type);
    } catch (err) {
      if (err instanceof AuthError && err.status === 401)
        throw new AuthError("invalid_grant", err.message, 400);
      throw err;
    }
  }

  private async session(
    user: string,
    claims: Record<string, unknown>,
    plugin: string | undefined,
    authTime: number,
  ): Promise<TokenResponse> {
    const ttl = this.remainingSession(authTime, this.sessionTimeoutSeconds);
    const access_token = await this.sign("access", user, { claims, plugin, authTime, ttlSeconds: ttl });
    const refresh_token = await this.sign("refresh", user, {
      claims,
      plugin,
      authTime,
      ttlSeconds: this.remainingSession(authTime, this.refreshTtl),
    });
    return { access_token, token_type: "Bearer", expires_in: ttl, refresh_token };
  }

  private remainingSession(authTime: number, wanted: number): number {
    const left = authTime + this.maxSession - this.nowSeconds();
    if (left <= 0)
      throw new AuthError("invalid_grant", "the session has reached its maximum length; log in again", 400);
    return Math.min(wanted, left);
  }

  private async sign(
    type: TokenType,
    user: string,
    opts: { claims?: Record<string, unknown>; plugin?: string; authTime?: number; ttlSeconds: number },
  ): Promise<string> {
    if (typeof user !== "string" || !USER_NAME.test(user) || user.startsWith("anon-")) {
      throw new AuthError("invalid_request", "user name must be 1-256 visible characters, not anon-*", 400);
    }
    if (!Number.isSafeInteger(opts.ttlSeconds) || opts.ttlSeconds <= 0 || opts.ttlSeconds > MAX_TTL_SECONDS) {
      throw new AuthError("invalid_request", `ttl must be 1..${MAX_TTL_SECONDS} seconds`, 400);
    }
    const claims = withProfileClaims(publicClaims(opts.claims ?? {}));
    if (JSON.stringify(claims).length > MAX_CLAIMS_CHARS) {
      throw new AuthError(
        "invalid_request",
        `claims must be at most ${MAX_CLAIMS_CHARS} characters of JSON`,
        400,
      );
    }
    await this.keys.rotateIfDue();
    const key = this.keys.active();
    const now = this.nowSeconds();
    if (opts.plugin !== undefined) claims.amp_plugin = opts.plugin;
    return new SignJWT({ ...claims, auth_time: opts.authTime ?? now })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: TYP[type] })
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setSubject(user)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + opts.ttlSeconds)
      .sign(key.privateKey);
  }

  /** Revocation and plugin checks; returns the token's revocation id. */
  private async checkStillValid(payload: JWTPayload, token: string): Promise<string> {
    const id = RevocationList.idOf(payload.iss ?? "", payload.jti, token);
    if (this.revocations.has(id)) throw new AuthError("token_revoked", "token has been revoked");
    const plugin = pluginOf(payload);
    if (plugin !== undefined) await this.checkPlugin(plugin);
    return id;
  }

  /** `pluginActive` is asked on every verification, cached or not, so keep it cheap (the server's is an LMDB read). */
  private async checkPlugin(plugin: string): Promise<void> {
    const check = this.options.pluginActive;
    if (!check) return;
    const active = check(plugin);
    if (active === true || (active !== false && (await active))) return;
    throw new AuthError("token_plugin_deleted", "the login configuration that issued this token was deleted");
  }

  private userOf(payload: JWTPayload): AmpUser {
    const id = payload.sub!;
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r) => typeof r === "string") : [];
    // Shared by every request that presents the token again (the cache), so frozen.
    return Object.freeze({
      id,
      anonymous: false,
      root: this.options.rootUser !== undefined && id === this.options.rootUser,
      roles: Object.freeze(roles),
      claims: Object.freeze(payload),
    });
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }
}

/** The claims a caller may carry from one token into the next. */
function publicClaims(claims: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(claims)) if (!REGISTERED.has(name)) out[name] = value;
  return out;
}

function pluginOf(payload: JWTPayload): string | undefined {
  return typeof payload.amp_plugin === "string" ? payload.amp_plugin : undefined;
}

function authTimeOf(payload: JWTPayload): number {
  return typeof payload.auth_time === "number" ? payload.auth_time : payload.iat!;
}

/** Maps jose's failures to our codes, with messages that never echo the token. */
function asAuthError(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof errors.JWTExpired) return new AuthError("token_expired", "token has expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "nbf" || err.claim === "iat")
      return new AuthError("token_not_yet_valid", "token is not yet valid");
    return new AuthError("token_invalid", `token claim "${err.claim}" is not accepted`);
  }
  if (err instanceof errors.JOSEAlgNotAllowed)
    return new AuthError("token_invalid", "token algorithm is not allowed");
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthError("token_invalid", "token signature does not verify");
  }
  if (err instanceof errors.JWKSNoMatchingKey)
    return new AuthError("token_invalid", "token signed by an unknown key");
  if (err instanceof errors.JOSEError)
    return new AuthError("token_invalid", "token is malformed or not accepted");
  return new AuthError("internal", "token verification failed", 500, { cause: err });
}
