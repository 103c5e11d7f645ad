import { createHash } from "node:crypto";
import { Hono } from "hono";
import {
  exportJWK,
  exportPKCS8,
  type GenerateKeyPairResult,
  generateKeyPair,
  jwtVerify,
  SignJWT,
} from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoginCodeStore, loginRoutes, PluginConfigStore } from "../../src/login/index.js";
import type { AuthVariables } from "../../src/user.js";
import { errorCode } from "../json.js";
import { listen, silentLogger, tempLoginStores, testUserMiddleware } from "./helpers.js";

/**
 * Sign in with Apple and Snowflake cannot be reached from here. These tests run the
 * whole login against local stand-ins of their endpoints that check what the real
 * ones check: Apple's ES256 client-secret JWT, Snowflake's Basic client auth, and
 * PKCE for both. The stand-ins are labelled as such in every test name.
 */

interface TokenRequest {
  form: URLSearchParams;
  authorization: string | undefined;
}

const RETURN_URL = "https://app.example/after-login";
const s256 = (verifier: string) => createHash("sha256").update(verifier).digest("base64url");

describe("Apple and Snowflake logins against local stand-ins of their endpoints", () => {
  const database = tempLoginStores();
  const configs = new PluginConfigStore({ db: database.db, secrets: database.secrets });
  const codes = new LoginCodeStore();
  const app = new Hono<{ Variables: AuthVariables }>();
  let standIn: { port: number; close(): Promise<void> };
  let standInUrl: string;
  let appleTeamKey: GenerateKeyPairResult;
  let appleIdTokenKey: GenerateKeyPairResult;
  /** What the stand-in's token endpoints received, and the PKCE challenge they must match. */
  const tokenRequests: TokenRequest[] = [];
  let expectedChallenge = "";
  let expectedNonce = "";

  beforeAll(async () => {
    appleTeamKey = await generateKeyPair("ES256", { extractable: true });
    appleIdTokenKey = await generateKeyPair("RS256");
    const jwk = {
      ...(await exportJWK(appleIdTokenKey.publicKey)),
      kid: "standin-1",
      alg: "RS256",
      use: "sig",
    };

    const fake = new Hono();
    fake.get("/.well-known/openid-configuration", (c) =>
      c.json({
        issuer: standInUrl,
        authorization_endpoint: `${standInUrl}/auth/authorize`,
        token_endpoint: `${standInUrl}/auth/token`,
        jwks_uri: `${standInUrl}/auth/keys`,
        response_types_supported: ["code"],
        response_modes_supported: ["query", "fragment", "form_post"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        token_endpoint_auth_methods_supported: ["client_secret_post"],
      }),
    );
    fake.get("/auth/keys", (c) => c.json({ keys: [jwk] }));
    // A provider whose discovery document sends the token request to a host outside the allowlist.
    fake.get("/rogue/.well-known/openid-configuration", (c) =>
      c.json({
        issuer: `${standInUrl}/rogue`,
        authorization_endpoint: `${standInUrl}/rogue/authorize`,
        token_endpoint: "http://169.254.169.254/latest/meta-data",
        jwks_uri: `${standInUrl}/auth/keys`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
      }),
    );
    fake.post("/auth/token", async (c) => {
      const form = new URLSearchParams(await c.req.text());
      tokenRequests.push({ form, authorization: c.req.header("authorization") });
      if (s256(form.get("code_verifier") ?? "") !== expectedChallenge) {
        return c.json({ error: "invalid_grant" }, 400);
      }
      const idToken = await new SignJWT({ nonce: expectedNonce, email: "dana@privaterelay.example" })
        .setProtectedHeader({ alg: "RS256", kid: "standin-1" })
        .setIssuer(standInUrl)
        .setAudience(form.get("client_id")!)
        .setSubject("001234.abcdef.0042")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(appleIdTokenKey.privateKey);
      return c.json({ access_token: "apple-at", token_type: "Bearer", expires_in: 3600, id_token: idToken });
    });
    fake.post("/oauth/token-request", async (c) => {
      const form = new URLSearchParams(await c.req.text());
      tokenRequests.push({ form, authorization: c.req.header("authorization") });
      if (s256(form.get("code_verifier") ?? "") !== expectedChallenge) {
        return c.json({ error: "invalid_grant", message: "PKCE mismatch" }, 400);
      }
      return c.json({
        access_token: "snow-at",
        refresh_token: "snow-rt",
        token_type: "Bearer",
        expires_in: 600,
        username: "ANALYST_JOE",
        scope: "refresh_token session:role:ANALYST",
      });
    });
    standIn = await listen(fake);
    standInUrl = `http://127.0.0.1:${standIn.port}`;

    app.use("*", testUserMiddleware());
    app.route(
      "/",
      loginRoutes({
        configs,
        codes,
        publicUrl: "https://amp.example",
        outbound: { allowedHosts: ["127.0.0.1"], allowInsecureHttp: true },
        logger: silentLogger,
      }),
    );
  });

  afterAll(async () => {
    await standIn?.close();
    await database.close();
  });

  async function putConfig(id: string, body: object, user = "root") {
    const response = await app.request(`/x/authConfig/${id}`, {
      method: "PUT",
      headers: { "content-type": "application/json", "x-test-user": user },
      body: JSON.stringify(body),
    });
    expect(response.status, await response.clone().text()).toBe(201);
  }

  /** Starts a login and notes the PKCE challenge and nonce the stand-in must see. */
  async function start(id: string): Promise<URL> {
    const response = await app.request(`/x/auth/${id}`);
    expect(response.status).toBe(302);
    const authorize = new URL(response.headers.get("location")!);
    expectedChallenge = authorize.searchParams.get("code_challenge")!;
    expectedNonce = authorize.searchParams.get("nonce") ?? "";
    return authorize;
  }

  it("Apple (local stand-in): form_post callback, ES256 client-secret JWT signed with the team key", async () => {
    await putConfig("apple", {
      kind: "apple",
      visibility: "confidential",
      issuer: standInUrl,
      clientId: "com.example.amp",
      teamId: "TEAM123456",
      keyId: "KEY1234567",
      privateKey: await exportPKCS8(appleTeamKey.privateKey),
      returnUrls: [RETURN_URL],
      userPrefix: "apple:",
    });
    const authorize = await start("apple");
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${standInUrl}/auth/authorize`);
    expect(authorize.searchParams.get("response_mode")).toBe("form_post");
    expect(authorize.searchParams.get("scope")).toBe("name email");
    expect(authorize.searchParams.get("redirect_uri")).toBe("https://amp.example/x/auth/apple/callback");
    expect(authorize.searchParams.get("nonce")).toBeTruthy();

    // Apple answers with a cross-site form post to the callback.
    const callback = await app.request("/x/auth/apple/callback", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        code: "apple-code",
        state: authorize.searchParams.get("state")!,
      }).toString(),
    });
    expect(callback.status).toBe(303);
    const landed = new URL(callback.headers.get("location")!);
    expect(`${landed.origin}${landed.pathname}`).toBe(RETURN_URL);
    expect(await codes.redeem(landed.searchParams.get("code")!)).toEqual({
      user: "apple:001234.abcdef.0042",
      plugin: "apple",
      claims: { amr: ["apple"], idp_sub: "001234.abcdef.0042", email: "dana@privaterelay.example" },
    });

    const request = tokenRequests.at(-1)!;
    expect(request.form.get("client_id")).toBe("com.example.amp");
    expect(request.form.get("code")).toBe("apple-code");
    const clientSecret = request.form.get("client_secret")!;
    const { payload, protectedHeader } = await jwtVerify(clientSecret, appleTeamKey.publicKey, {
      algorithms: ["ES256"],
      issuer: "TEAM123456",
      subject: "com.example.amp",
      audience: "https://appleid.apple.com",
    });
    expect(protectedHeader.kid).toBe("KEY1234567");
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(300);
  });

  it("Apple (local stand-in): an ID token with another nonce is refused with 400", async () => {
    const authorize = await start("apple");
    expectedNonce = "not-the-nonce-we-sent";
    const callback = await app.request("/x/auth/apple/callback", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        code: "apple-code",
        state: authorize.searchParams.get("state")!,
      }).toString(),
    });
    expect(callback.status).toBe(400);
    expect(await errorCode(callback)).toBe("nonce_mismatch");
  });

  it("Snowflake (local stand-in): endpoints under the account URL, Basic client auth, role scope, user from the token response", async () => {
    await putConfig("snowflake", {
      kind: "snowflake",
      visibility: "confidential",
      accountUrl: standInUrl,
      clientId: "SNOWCLIENT",
      clientSecret: "snow+secret/with=",
      role: "ANALYST",
      scopes: ["refresh_token"],
      returnUrls: [RETURN_URL],
    });
    const authorize = await start("snowflake");
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${standInUrl}/oauth/authorize`);
    expect(authorize.searchParams.get("scope")).toBe("session:role:ANALYST refresh_token");
    expect(authorize.searchParams.get("client_id")).toBe("SNOWCLIENT");
    expect(authorize.searchParams.get("nonce")).toBeNull();

    const callback = await app.request(
      `/x/auth/snowflake/callback?code=snow-code&state=${authorize.searchParams.get("state")}`,
    );
    expect(callback.status).toBe(302);
    const code = new URL(callback.headers.get("location")!).searchParams.get("code")!;
    expect((await codes.redeem(code))?.user).toBe("ANALYST_JOE");

    const request = tokenRequests.at(-1)!;
    expect(request.authorization).toBe(
      `Basic ${Buffer.from("SNOWCLIENT:snow+secret/with=").toString("base64")}`,
    );
    expect(request.form.get("grant_type")).toBe("authorization_code");
    expect(request.form.get("redirect_uri")).toBe("https://amp.example/x/auth/snowflake/callback");
  });

  it("Snowflake (local stand-in): a user-owned public plugin sends no secret and prefixes its user names", async () => {
    await putConfig(
      "sf-public",
      {
        kind: "snowflake",
        visibility: "public",
        accountUrl: standInUrl,
        clientId: "PUBLICCLIENT",
        returnUrls: [RETURN_URL],
      },
      "ursula",
    );
    const authorize = await start("sf-public");
    const callback = await app.request(
      `/x/auth/sf-public/callback?code=snow-code&state=${authorize.searchParams.get("state")}`,
    );
    expect(callback.status).toBe(302);
    const code = new URL(callback.headers.get("location")!).searchParams.get("code")!;
    expect((await codes.redeem(code))?.user).toBe("sf-public:ANALYST_JOE");
    const request = tokenRequests.at(-1)!;
    expect(request.authorization).toBeUndefined();
    expect(request.form.get("client_id")).toBe("PUBLICCLIENT");
    expect(request.form.get("client_secret")).toBeNull();
  });

  it("Snowflake (local stand-in): a wrong PKCE verifier is refused by the token endpoint → 400", async () => {
    const authorize = await start("snowflake");
    expectedChallenge = s256("some other verifier");
    const callback = await app.request(
      `/x/auth/snowflake/callback?code=snow-code&state=${authorize.searchParams.get("state")}`,
    );
    expect(callback.status).toBe(400);
    expect(await errorCode(callback)).toBe("code_exchange_failed");
  });

  it("refuses to call a host outside the allowlist, even when a discovery document names it", async () => {
    await putConfig("rogue", {
      kind: "oidc",
      visibility: "confidential",
      issuer: `${standInUrl}/rogue`,
      clientId: "amp",
      clientSecret: "rogue-secret",
      returnUrls: [RETURN_URL],
    });
    const authorize = await start("rogue");
    const before = tokenRequests.length;
    const callback = await app.request(
      `/x/auth/rogue/callback?code=c&state=${authorize.searchParams.get("state")}`,
    );
    expect(callback.status).toBe(400);
    expect(await errorCode(callback)).toBe("host_not_allowed");
    expect(tokenRequests.length).toBe(before);
  });

  it("answers 502 when the provider cannot be reached", async () => {
    const closed = await listen(new Hono());
    await closed.close();
    await putConfig("down", {
      kind: "oidc",
      visibility: "confidential",
      issuer: `http://127.0.0.1:${closed.port}`,
      clientId: "amp",
      clientSecret: "down-secret",
      returnUrls: [RETURN_URL],
    });
    const response = await app.request("/x/auth/down");
    expect(response.status).toBe(502);
    expect(await errorCode(response)).toBe("provider_unreachable");
  });
});
