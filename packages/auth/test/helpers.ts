import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Secrets } from "@amp/secrets";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import { importJWK, type JWK, SignJWT } from "jose";
import { AUTH_VAULT_APP, TokenService, type TokenServiceOptions } from "../src/index.js";

/** Cleanups registered by the helpers, run (newest first) by `cleanup()`. */
const pending: Array<() => unknown> = [];
export async function cleanup(): Promise<void> {
  for (const fn of pending.splice(0).reverse()) await fn();
}

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "amp-auth-"));
  pending.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface OpenedTokens {
  tokens: TokenService;
  secrets: Secrets;
  dir: string;
}

/** A TokenService on a real LMDB temp dir (or `dir`), with its keys in real @amp/secrets. */
export async function openTokens(
  options: Partial<TokenServiceOptions> = {},
  dir = tempDir(),
): Promise<OpenedTokens> {
  const secrets = new Secrets({ databaseDir: dir });
  const tokens = await TokenService.open({
    databaseDir: dir,
    vault: secrets.scoped(AUTH_VAULT_APP),
    ...options,
  });
  pending.push(() => secrets.close());
  pending.push(() => tokens.close());
  return { tokens, secrets, dir };
}

/**
 * Signs arbitrary header and claims with the service's real active private key, read
 * from its vault: the way to build tokens that differ from a valid one in one respect.
 */
export async function forger(opened: OpenedTokens) {
  const stored = JSON.parse((await opened.secrets.scoped(AUTH_VAULT_APP).get("signing-keys"))!) as {
    keys: Array<{ kid: string; alg: string; privateJwk: JWK; publicJwk: JWK; retiredAt?: number }>;
  };
  const active = stored.keys.find((k) => k.retiredAt === undefined)!;
  const privateKey = await importJWK(active.privateJwk, active.alg);
  const now = Math.floor(Date.now() / 1000);
  return {
    kid: active.kid,
    alg: active.alg,
    publicJwk: active.publicJwk,
    /** A token valid in every respect except what `claims`/`header` override. */
    sign: (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
      new SignJWT({
        iss: opened.tokens.issuer,
        aud: opened.tokens.audience,
        sub: "alice",
        iat: now,
        nbf: now,
        exp: now + 600,
        jti: crypto.randomUUID(),
        ...claims,
      })
        .setProtectedHeader({ alg: active.alg, kid: active.kid, typ: "at+jwt", ...header })
        .sign(privateKey),
  };
}

/** Serves a Hono app on an ephemeral loopback port; closed by `cleanup()`. */
export async function listen(app: Hono<never> | { fetch: Hono["fetch"] }): Promise<string> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  pending.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export function b64url(value: unknown): string {
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
}
