import { importPKCS8, SignJWT } from "jose";
import type { Logger } from "pino";
import { KeyProviderError, SecretDecryptError } from "./errors.js";
import type { KeyProvider, WrappedKey } from "./key-provider.js";
import { silentLogger } from "./logger.js";

/** The fields of a GCP service-account JSON key file this provider uses. */
export interface ServiceAccountCredentials {
  client_email: string;
  private_key: string;
  /** Defaults to https://oauth2.googleapis.com/token. */
  token_uri?: string;
}

export interface GcpKmsOptions {
  /** `projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>` (a symmetric ENCRYPT_DECRYPT key). */
  keyName: string;
  credentials: ServiceAccountCredentials;
  /** The KMS API root; defaults to https://cloudkms.googleapis.com. Tests point it at a stand-in. */
  endpoint?: string;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
  logger?: Logger;
}

const SCOPE = "https://www.googleapis.com/auth/cloudkms";
const KEY_NAME = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * Wraps data keys with Google Cloud KMS through its REST `encrypt`/`decrypt` API. The
 * KEK never leaves KMS; a key version is a KMS CryptoKeyVersion, and rotation creates
 * one and makes it primary. Access tokens come from the service account's JWT-bearer
 * grant and are cached until shortly before they expire.
 */
export class GcpKmsProvider implements KeyProvider {
  readonly name = "gcp-kms";
  private readonly endpoint: string;
  private readonly tokenUri: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly logger: Logger;
  private token: { value: string; expiresAt: number } | undefined;

  constructor(private readonly options: GcpKmsOptions) {
    if (!KEY_NAME.test(options.keyName))
      throw new KeyProviderError("keyName must be a full CryptoKey resource name");
    this.endpoint = (options.endpoint ?? "https://cloudkms.googleapis.com").replace(/\/$/, "");
    this.tokenUri = options.credentials.token_uri ?? "https://oauth2.googleapis.com/token";
    for (const url of [this.endpoint, this.tokenUri]) requireSecureUrl(url);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.logger = options.logger ?? silentLogger;
  }

  async wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    const res = await this.call(`${this.options.keyName}:encrypt`, {
      plaintext: b64(dataKey),
      additionalAuthenticatedData: b64(aad),
    });
    if (typeof res.name !== "string" || typeof res.ciphertext !== "string") {
      throw new KeyProviderError("KMS encrypt answered without name or ciphertext");
    }
    return { version: versionOf(res.name), wrapped: Buffer.from(res.ciphertext, "base64") };
  }

  async unwrap(wrapped: Uint8Array, _version: string, aad: Uint8Array): Promise<Uint8Array> {
    // KMS finds the version from the ciphertext itself.
    const res = await this.call(
      `${this.options.keyName}:decrypt`,
      { ciphertext: b64(wrapped), additionalAuthenticatedData: b64(aad) },
      { badRequestMeansDecryptFailure: true },
    );
    if (typeof res.plaintext !== "string")
      throw new KeyProviderError("KMS decrypt answered without plaintext");
    return Buffer.from(res.plaintext, "base64");
  }

  async currentVersion(): Promise<string> {
    const res = await this.call(this.options.keyName, undefined);
    const primary = res.primary as { name?: unknown } | undefined;
    if (typeof primary?.name !== "string") throw new KeyProviderError("KMS key has no primary version");
    return versionOf(primary.name);
  }

  async rotate(): Promise<string> {
    const created = await this.call(`${this.options.keyName}/cryptoKeyVersions`, {});
    if (typeof created.name !== "string") throw new KeyProviderError("KMS answered without a version name");
    const version = versionOf(created.name);
    await this.call(`${this.options.keyName}:updatePrimaryVersion`, { cryptoKeyVersionId: version });
    this.logger.info({ version }, "KMS key rotated");
    return version;
  }

  private async call(
    path: string,
    body: Record<string, unknown> | undefined,
    opts: { badRequestMeansDecryptFailure?: boolean } = {},
  ): Promise<Record<string, unknown>> {
    const res = await this.request(`${this.endpoint}/v1/${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${await this.accessToken()}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 400 && opts.badRequestMeansDecryptFailure) throw new SecretDecryptError();
    if (!res.ok) {
      if (res.status === 401) this.token = undefined;
      // The KMS error body describes the request, never the plaintext; keep only its status.
      throw new KeyProviderError(`KMS ${path.split(":")[1] ?? "get"} failed with HTTP ${res.status}`);
    }
    return res.json;
  }

  private async accessToken(): Promise<string> {
    const now = Date.now();
    if (this.token && this.token.expiresAt - 60_000 > now) return this.token.value;
    const { client_email, private_key } = this.options.credentials;
    let key: Awaited<ReturnType<typeof importPKCS8>>;
    try {
      key = await importPKCS8(private_key, "RS256");
    } catch (err) {
      throw new KeyProviderError("service-account private_key is not an RSA PKCS#8 key", { cause: err });
    }
    const assertion = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: "RS256", typ: "JWT" })
      .setIssuer(client_email)
      .setAudience(this.tokenUri)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(key);
    const res = await this.request(this.tokenUri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion,
      }).toString(),
    });
    const { access_token, expires_in } = res.json;
    if (!res.ok || typeof access_token !== "string") {
      throw new KeyProviderError(`service-account token exchange failed with HTTP ${res.status}`);
    }
    const ttl = typeof expires_in === "number" ? expires_in : 3600;
    this.token = { value: access_token, expiresAt: now + ttl * 1000 };
    return access_token;
  }

  private async request(
    url: string,
    init: RequestInit,
  ): Promise<{ ok: boolean; status: number; json: Record<string, unknown> }> {
    let res: Response;
    try {
      res = await this.fetch(url, {
        ...init,
        redirect: "error",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new KeyProviderError(`cannot reach ${new URL(url).host}`, { cause: err });
    }
    const text = await res.text();
    if (text.length > MAX_RESPONSE_BYTES)
      throw new KeyProviderError(`response from ${new URL(url).host} is too large`);
    let json: Record<string, unknown> = {};
    try {
      const parsed: unknown = text ? JSON.parse(text) : {};
      if (parsed && typeof parsed === "object") json = parsed as Record<string, unknown>;
    } catch {
      if (res.ok) throw new KeyProviderError(`response from ${new URL(url).host} is not JSON`);
    }
    return { ok: res.ok, status: res.status, json };
  }
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

function versionOf(resourceName: string): string {
  const match = /\/cryptoKeyVersions\/([^/]+)$/.exec(resourceName);
  if (!match) throw new KeyProviderError("KMS answered with a malformed version name");
  return match[1]!;
}

/** Only https, except plain http to loopback (a local stand-in or emulator). */
function requireSecureUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new KeyProviderError(`not a URL: ${url}`);
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname);
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && loopback)) {
    throw new KeyProviderError(`KMS and token URLs must be https (got ${parsed.origin})`);
  }
}
