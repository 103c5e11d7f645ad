import { createHash } from "node:crypto";
import { launchChromium } from "@amp/test-support";
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
import { listen, loginCookies, silentLogger, tempLoginStores, testUserMiddleware } from "./helpers.js";

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
  const configs = new PluginConfigStore({ records: database.records, secrets: database.secrets });
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
    // Apple's sign-in page ends by posting the code to the callback from its own site (form_post).
    fake.get("/auth/authorize", (c) => {
      const { redirect_uri, state, code_challenge, nonce } = c.req.query();
      expectedChallenge = code_challenge ?? "";
      expectedNonce = nonce ?? "";
      const field = (name: string, value: string) =>
        `<input type="hidden" name="${name}" value="${encodeURIComponent(value)}">`;
      return c.html(
        `<form method="post" action="${encodeURI(redirect_uri ?? "")}">${field("code", "apple-code")}${field("state", state ?? "")}</form>` +
          "<script>document.forms[0].submit()</script>",
      );
    });
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

  /** The login cookie's `name=value` in a start response (as a browser would send it back). */
  const cookieOf = (response: Response) => loginCookies(response)[0]?.split(";")[0] ?? "";

  /**
   * Starts a login and notes the PKCE challenge and nonce the stand-in must see;
   * `cookie` is what the starting browser sends back to the callback.
   */
  async function start(
    id: string,
  ): Promise<{ authorize: URL; state: string; cookie: string; setCookie: string[] }> {
    const response = await app.request(`/x/auth/${id}`);
    expect(response.status).toBe(302);
    const authorize = new URL(response.headers.get("location")!);
    expectedChallenge = authorize.searchParams.get("code_challenge")!;
    expectedNonce = authorize.searchParams.get("nonce") ?? "";
    return {
      authorize,
      state: authorize.searchParams.get("state")!,
      cookie: cookieOf(response),
      setCookie: loginCookies(response),
    };
  }

  /** The provider's redirect back (GET), from a browser holding `cookie`. */
  function callback(id: string, code: string, login: { state: string; cookie: string }) {
    return app.request(`/x/auth/${id}/callback?code=${code}&state=${login.state}`, {
      headers: { cookie: login.cookie },
    });
  }

  /** Apple's cross-site form post to the callback, from a browser holding `cookie`. */
  function applePost(login: { state: string; cookie: string }) {
    return app.request("/x/auth/apple/callback", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: login.cookie },
      body: new URLSearchParams({ code: "apple-code", state: login.state }).toString(),
    });
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
    const login = await start("apple");
    const { authorize } = login;
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${standInUrl}/auth/authorize`);
    expect(authorize.searchParams.get("response_mode")).toBe("form_post");
    expect(authorize.searchParams.get("scope")).toBe("name email");
    expect(authorize.searchParams.get("redirect_uri")).toBe("https://amp.example/x/auth/apple/callback");
    expect(authorize.searchParams.get("nonce")).toBeTruthy();

    // Apple answers with a cross-site form post to the callback.
    const answer = await applePost(login);
    expect(answer.status).toBe(303);
    const landed = new URL(answer.headers.get("location")!);
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
    const login = await start("apple");
    expectedNonce = "not-the-nonce-we-sent";
    const answer = await applePost(login);
    expect(answer.status).toBe(400);
    expect(await errorCode(answer)).toBe("nonce_mismatch");
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
    const login = await start("snowflake");
    const { authorize } = login;
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${standInUrl}/oauth/authorize`);
    expect(authorize.searchParams.get("scope")).toBe("session:role:ANALYST refresh_token");
    expect(authorize.searchParams.get("client_id")).toBe("SNOWCLIENT");
    expect(authorize.searchParams.get("nonce")).toBeNull();

    const answer = await callback("snowflake", "snow-code", login);
    expect(answer.status).toBe(302);
    const code = new URL(answer.headers.get("location")!).searchParams.get("code")!;
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
    const answer = await callback("sf-public", "snow-code", await start("sf-public"));
    expect(answer.status).toBe(302);
    const code = new URL(answer.headers.get("location")!).searchParams.get("code")!;
    expect((await codes.redeem(code))?.user).toBe("sf-public:ANALYST_JOE");
    const request = tokenRequests.at(-1)!;
    expect(request.authorization).toBeUndefined();
    expect(request.form.get("client_id")).toBe("PUBLICCLIENT");
    expect(request.form.get("client_secret")).toBeNull();
  });

  it("Snowflake (local stand-in): a wrong PKCE verifier is refused by the token endpoint → 400", async () => {
    const login = await start("snowflake");
    expectedChallenge = s256("some other verifier");
    const answer = await callback("snowflake", "snow-code", login);
    expect(answer.status).toBe(400);
    expect(await errorCode(answer)).toBe("code_exchange_failed");
  });

  it("login cookie (https public URL): HttpOnly, Path=/x/auth, Secure, SameSite=Lax, as long as a login; cleared by the callback", async () => {
    const login = await start("snowflake");
    expect(login.setCookie).toEqual([
      expect.stringMatching(
        /^amp_login_[\w-]{16}=[\w-]{43}; Max-Age=600; Path=\/x\/auth; HttpOnly; Secure; SameSite=Lax$/,
      ),
    ]);
    const answer = await callback("snowflake", "snow-code", login);
    expect(answer.status).toBe(302);
    const name = login.cookie.split("=")[0];
    expect(loginCookies(answer)).toEqual([
      `${name}=; Max-Age=0; Path=/x/auth; HttpOnly; Secure; SameSite=Lax`,
    ]);
  });

  it("login cookie of a form_post plugin (Apple, local stand-in): SameSite=None and Secure, so Apple's cross-site post carries it", async () => {
    expect((await start("apple")).setCookie).toEqual([
      expect.stringMatching(
        /^amp_login_[\w-]{16}=[\w-]{43}; Max-Age=600; Path=\/x\/auth; HttpOnly; Secure; SameSite=None$/,
      ),
    ]);
  });

  it("refuses a callback without the login cookie, or with another login's, with 400 browser_mismatch before the provider sees the code", async () => {
    const victim = await start("snowflake");
    const before = tokenRequests.length;
    const cookieName = (cookie: string) => cookie.split("=")[0];
    const browsers: ((attacker: { cookie: string }) => string)[] = [
      () => "", // no login cookie at all
      () => victim.cookie, // the victim's own login's cookie
      // another login's id under this login's cookie name: the value is checked, not only the name
      (attacker) => `${cookieName(attacker.cookie)}=${victim.cookie.split("=")[1]}`,
    ];
    for (const victimsBrowser of browsers) {
      const attacker = await start("snowflake");
      const answer = await callback("snowflake", "attacker-code", {
        ...attacker,
        cookie: victimsBrowser(attacker),
      });
      expect(answer.status).toBe(400);
      expect(answer.headers.get("location")).toBeNull();
      expect(await errorCode(answer)).toBe("browser_mismatch");
      // The refused login is spent: not even the attacker's own browser can finish it now.
      expect(await errorCode(await callback("snowflake", "attacker-code", attacker))).toBe("state_mismatch");
    }
    expect(tokenRequests.length, "the attacker's code never reached the token endpoint").toBe(before);

    // The victim's own login, from the victim's browser, still works.
    expectedChallenge = victim.authorize.searchParams.get("code_challenge")!;
    const own = await callback("snowflake", "snow-code", victim);
    expect(own.status).toBe(302);
    expect(new URL(own.headers.get("location")!).searchParams.get("code")).toBeTruthy();
  });

  it("Apple (local stand-in): a form post without the SameSite=None login cookie is refused with 400", async () => {
    const login = await start("apple");
    const before = tokenRequests.length;
    const answer = await applePost({ ...login, cookie: "" });
    expect(answer.status).toBe(400);
    expect(await errorCode(answer)).toBe("browser_mismatch");
    expect(tokenRequests.length).toBe(before);
  });

  it("refuses Apple plugins on a plain-http public URL (the login cookie could not be Secure); loopback http is allowed", async () => {
    const served = (publicUrl: string) => {
      const server = new Hono<{ Variables: AuthVariables }>();
      server.use("*", testUserMiddleware());
      const outbound = { allowedHosts: ["127.0.0.1"], allowInsecureHttp: true };
      server.route("/", loginRoutes({ configs, codes, publicUrl, outbound, logger: silentLogger }));
      return server;
    };
    const plainHttp = served("http://amp.example");
    const put = await plainHttp.request("/x/authConfig/apple-http", {
      method: "PUT",
      headers: { "content-type": "application/json", "x-test-user": "root" },
      body: JSON.stringify({
        kind: "apple",
        visibility: "confidential",
        issuer: standInUrl,
        clientId: "com.example.amp",
        teamId: "TEAM123456",
        keyId: "KEY1234567",
        privateKey: await exportPKCS8(appleTeamKey.privateKey),
        returnUrls: [RETURN_URL],
      }),
    });
    expect(put.status).toBe(400);
    expect(await errorCode(put)).toBe("https_required");
    expect(configs.get("apple-http")).toBeUndefined();
    // A plugin stored under another public URL does not start either, and sets no cookie.
    const started = await plainHttp.request("/x/auth/apple");
    expect(started.status).toBe(400);
    expect(await errorCode(started)).toBe("https_required");
    expect(loginCookies(started)).toEqual([]);
    // Other kinds work on plain http, with a cookie that is not Secure.
    const snowflake = await plainHttp.request("/x/auth/snowflake");
    expect(snowflake.status).toBe(302);
    expect(loginCookies(snowflake)[0]).toMatch(/; HttpOnly; SameSite=Lax$/);

    const loopback = await served("http://127.0.0.1:8080").request("/x/auth/apple");
    expect(loopback.status).toBe(302);
    expect(loginCookies(loopback)[0]).toMatch(/; Secure; SameSite=None$/);
  });

  it("Apple (local stand-in) in headless Chromium: the cross-site form post carries the SameSite=None cookie and the login completes", async () => {
    // amp at http://localhost (loopback: Secure cookies work), Apple's stand-in at http://127.0.0.1: two sites.
    let amp: Hono<{ Variables: AuthVariables }> | undefined;
    const server = await listen({ fetch: (request: Request) => amp!.fetch(request) });
    const ampUrl = `http://localhost:${server.port}`;
    amp = new Hono<{ Variables: AuthVariables }>();
    amp.get("/done", (c) => c.text("logged in"));
    amp.route(
      "/",
      loginRoutes({
        configs,
        codes,
        publicUrl: ampUrl,
        outbound: { allowedHosts: ["127.0.0.1"], allowInsecureHttp: true },
        logger: silentLogger,
      }),
    );
    const browser = await launchChromium();
    try {
      await putConfig("apple-web", {
        kind: "apple",
        visibility: "confidential",
        issuer: standInUrl,
        clientId: "com.example.amp",
        teamId: "TEAM123456",
        keyId: "KEY1234567",
        privateKey: await exportPKCS8(appleTeamKey.privateKey),
        returnUrls: [`${ampUrl}/done`],
      });
      const page = await browser.newPage();
      let posted: { method: string; cookie: string | undefined } | undefined;
      page.on("request", async (request) => {
        if (request.url().includes("/x/auth/apple-web/callback"))
          posted = { method: request.method(), cookie: (await request.headerValue("cookie")) ?? undefined };
      });
      await page.goto(`${ampUrl}/x/auth/apple-web`);
      await page.waitForURL((url) => url.pathname === "/done", { timeout: 10_000 });
      expect(posted?.method).toBe("POST");
      expect(posted?.cookie).toMatch(/amp_login_[\w-]{16}=/);
      expect(await page.textContent("body")).toContain("logged in");
      const code = new URL(page.url()).searchParams.get("code")!;
      expect((await codes.redeem(code))?.user).toBe("001234.abcdef.0042");
    } finally {
      await browser.close();
      await server.close();
    }
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
    const login = await start("rogue");
    const before = tokenRequests.length;
    const answer = await callback("rogue", "c", login);
    expect(answer.status).toBe(400);
    expect(await errorCode(answer)).toBe("host_not_allowed");
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
