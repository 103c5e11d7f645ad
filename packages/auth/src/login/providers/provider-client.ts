import * as client from "openid-client";
import type { PluginConfig } from "../config/schema.js";
import type { PluginConfigStore } from "../config/store.js";
import { LoginError } from "../errors.js";
import { assertAllowedUrl, guardedFetch, type OutboundPolicy } from "../outbound.js";
import { APPLE_ISSUER, appleClientSecret } from "./apple-client-secret.js";
import { callbackMode, type PendingLogin } from "./login-provider.js";

/** Discovery documents are re-read after this long. */
const METADATA_TTL_MS = 10 * 60_000;

/**
 * Talks to the identity provider of each plugin kind through openid-client:
 * - `oidc`: discovery, authorization code + PKCE, nonce checked in the ID token, userinfo;
 * - `oauth2`: configured endpoints, PKCE, userinfo as a protected resource;
 * - `apple`: OIDC with an ES256 JWT client secret and `response_mode=form_post`;
 * - `snowflake`: OAuth2 with endpoints under the account URL; the user comes from the token response.
 */
export class ProviderClient {
  readonly #configs: PluginConfigStore;
  readonly #outbound: OutboundPolicy;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #metadata = new Map<
    string,
    { version: string; expiresAt: number; metadata: client.ServerMetadata }
  >();

  constructor(options: { configs: PluginConfigStore; outbound: OutboundPolicy; now?: () => number }) {
    this.#configs = options.configs;
    this.#outbound = options.outbound;
    this.#fetch = guardedFetch(options.outbound);
    this.#now = options.now ?? Date.now;
  }

  /** The provider's authorization URL for a login that `pending` remembers. */
  async authorizationUrl(config: PluginConfig, pending: PendingLogin, redirectUri: string): Promise<URL> {
    const configuration = new client.Configuration(await this.#serverMetadata(config), config.clientId);
    this.#restrict(configuration);
    const parameters: Record<string, string> = {
      redirect_uri: redirectUri,
      response_type: "code",
      scope: scopesOf(config).join(" "),
      state: pending.state,
      code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: "S256",
    };
    if (usesIdToken(config)) parameters.nonce = pending.nonce;
    if (callbackMode(config) === "form_post") parameters.response_mode = "form_post";
    return client.buildAuthorizationUrl(configuration, parameters);
  }

  /**
   * Exchanges the authorization response `params` (query or form post) for the
   * provider's claims, checking state, PKCE and (for OIDC kinds) the nonce.
   */
  async exchange(
    config: PluginConfig,
    pending: PendingLogin,
    redirectUri: string,
    params: Record<string, string>,
  ): Promise<Record<string, unknown>> {
    const configuration = await this.#configuration(config);
    const currentUrl = new URL(redirectUri);
    for (const [name, value] of Object.entries(params)) currentUrl.searchParams.set(name, value);
    try {
      const tokens = await client.authorizationCodeGrant(configuration, currentUrl, {
        expectedState: pending.state,
        pkceCodeVerifier: pending.codeVerifier,
        ...(usesIdToken(config) && { expectedNonce: pending.nonce }),
      });
      return await this.#claims(config, configuration, tokens);
    } catch (error) {
      throw toLoginError(error);
    }
  }

  async #claims(
    config: PluginConfig,
    configuration: client.Configuration,
    tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers,
  ): Promise<Record<string, unknown>> {
    switch (config.kind) {
      case "snowflake":
        // Snowflake has no userinfo; its token response names the user.
        return { username: tokens.username, scope: tokens.scope };
      case "oauth2": {
        const response = await client.fetchProtectedResource(
          configuration,
          tokens.access_token,
          new URL(config.userinfoEndpoint),
          "GET",
        );
        if (!response.ok)
          throw new LoginError("userinfo_failed", `userinfo answered ${response.status}`, 502);
        return (await response.json()) as Record<string, unknown>;
      }
      default: {
        const idClaims: Record<string, unknown> = tokens.claims() ?? {};
        if (config.kind === "apple" || !configuration.serverMetadata().userinfo_endpoint) return idClaims;
        const userinfo = await client.fetchUserInfo(configuration, tokens.access_token, String(idClaims.sub));
        return { ...userinfo, ...idClaims };
      }
    }
  }

  /** An openid-client configuration with this plugin's client authentication. */
  async #configuration(config: PluginConfig): Promise<client.Configuration> {
    const metadata = await this.#serverMetadata(config);
    const configuration = new client.Configuration(
      metadata,
      config.clientId,
      {},
      await this.#clientAuth(config),
    );
    this.#restrict(configuration);
    return configuration;
  }

  async #clientAuth(config: PluginConfig): Promise<client.ClientAuth> {
    const secret = await this.#configs.secret(config);
    if (config.visibility === "public") return client.None();
    if (secret === undefined)
      throw new LoginError("secret_missing", `plugin "${config.id}" has no secret`, 500);
    switch (config.kind) {
      case "apple":
        return client.ClientSecretPost(
          await appleClientSecret({ ...config, privateKeyPem: secret, now: this.#now }),
        );
      case "snowflake":
        return rawClientSecretBasic(config.clientId, secret);
      default:
        return config.kind === "oauth2" && config.tokenAuthMethod === "client_secret_post"
          ? client.ClientSecretPost(secret)
          : client.ClientSecretBasic(secret);
    }
  }

  async #serverMetadata(config: PluginConfig): Promise<client.ServerMetadata> {
    switch (config.kind) {
      case "oauth2":
        return {
          issuer: new URL(config.authorizationEndpoint).origin,
          authorization_endpoint: config.authorizationEndpoint,
          token_endpoint: config.tokenEndpoint,
        };
      case "snowflake": {
        const account = new URL(config.accountUrl).origin;
        return {
          issuer: account,
          authorization_endpoint: `${account}/oauth/authorize`,
          token_endpoint: `${account}/oauth/token-request`,
        };
      }
      default:
        return this.#discover(config.id, config.updatedAt, config.issuer ?? APPLE_ISSUER);
    }
  }

  async #discover(id: string, version: string, issuer: string): Promise<client.ServerMetadata> {
    const cached = this.#metadata.get(id);
    if (cached && cached.version === version && cached.expiresAt > this.#now()) return cached.metadata;
    assertAllowedUrl(this.#outbound, issuer);
    try {
      const discovered = await client.discovery(new URL(issuer), "discovery", undefined, undefined, {
        [client.customFetch]: this.#fetch,
        execute: this.#outbound.allowInsecureHttp ? [client.allowInsecureRequests] : [],
      });
      const metadata = discovered.serverMetadata();
      this.#metadata.set(id, { version, expiresAt: this.#now() + METADATA_TTL_MS, metadata });
      return metadata;
    } catch (error) {
      throw toLoginError(error);
    }
  }

  /** Every request of `configuration` goes through the outbound policy. */
  #restrict(configuration: client.Configuration): void {
    configuration[client.customFetch] = this.#fetch;
    configuration.timeout = Math.ceil((this.#outbound.timeoutMs ?? 10_000) / 1000);
    if (this.#outbound.allowInsecureHttp) client.allowInsecureRequests(configuration);
  }
}

function usesIdToken(config: PluginConfig): boolean {
  return config.kind === "oidc" || config.kind === "apple";
}

function scopesOf(config: PluginConfig): string[] {
  const configured = config.scopes ?? [];
  switch (config.kind) {
    case "oidc":
      return configured.includes("openid") ? configured : ["openid", ...configured];
    case "apple":
      return config.scopes ?? ["name", "email"];
    case "snowflake":
      return config.role ? [`session:role:${config.role}`, ...configured] : configured;
    default:
      return configured;
  }
}

/**
 * Maps openid-client failures to typed 400s (the login was refused) or 502s (the
 * provider failed); anything else is a bug and goes on as it is (500, logged).
 */
function toLoginError(error: unknown): unknown {
  if (error instanceof LoginError) return error;
  if (error instanceof Error && error.cause instanceof LoginError) return error.cause;
  if (isNetworkFailure(error)) {
    return new LoginError("provider_unreachable", "the identity provider could not be reached", 502);
  }
  if (error instanceof client.AuthorizationResponseError) {
    return new LoginError("provider_error", `the provider refused the login (${error.error})`);
  }
  if (error instanceof client.ResponseBodyError) {
    return new LoginError("code_exchange_failed", `the provider rejected the code exchange (${error.error})`);
  }
  if (error instanceof client.ClientError) {
    const claim = comparedClaim(error);
    if (claim === "nonce") return new LoginError("nonce_mismatch", "the ID token's nonce does not match");
    if (claim === "state") return new LoginError("state_mismatch", "the login state does not match");
    return new LoginError("login_failed", `the provider's answer was not valid (${error.code ?? "invalid"})`);
  }
  return error;
}

/** A refused connection, DNS failure or timeout, possibly wrapped by openid-client. */
function isNetworkFailure(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e.name === "TimeoutError" || e.name === "AbortError") return true;
    if (e instanceof TypeError && e.message === "fetch failed") return true;
  }
  return false;
}

/** The claim an openid-client comparison failure is about (it nests the detail one or two causes deep). */
function comparedClaim(error: Error): string | undefined {
  const cause = error.cause as { claim?: string; cause?: { claim?: string } } | undefined;
  return cause?.claim ?? cause?.cause?.claim;
}

/**
 * HTTP Basic client auth without RFC 6749's form-encoding of id and secret.
 * Snowflake's secrets contain `+`, `/` and `=`, and Snowflake expects them as
 * issued (`base64(id:secret)`), which the strict encoding would alter.
 */
function rawClientSecretBasic(clientId: string, secret: string): client.ClientAuth {
  return (_as, _client, _body, headers) => {
    headers.set("authorization", `Basic ${Buffer.from(`${clientId}:${secret}`).toString("base64")}`);
  };
}
