import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authRoutes, GRANT_RENEW, GRANT_TOKEN_EXCHANGE } from "../src/http.js";
import {
  type AmpUser,
  type AuthVariables,
  authMiddleware,
  type LoginIdentity,
  type TokenResponse,
} from "../src/index.js";
import { cleanup, listen, type OpenedTokens, openTokens } from "./helpers.js";
import { errorCode, jsonBody } from "./json.js";

/** A minimal single-use code store with the shape the login plugins provide. */
class Codes {
  private readonly codes = new Map<string, LoginIdentity>();
  add(code: string, identity: LoginIdentity) {
    this.codes.set(code, identity);
  }
  async redeem(code: string) {
    const identity = this.codes.get(code);
    this.codes.delete(code);
    return identity;
  }
}

describe("authRoutes and authMiddleware over real HTTP", () => {
  let opened: OpenedTokens;
  let external: OpenedTokens;
  let base: string;
  const codes = new Codes();

  const post = (
    path: string,
    body: Record<string, string>,
    form = true,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${base}${path}`, {
      method: "POST",
      headers: {
        "content-type": form ? "application/x-www-form-urlencoded" : "application/json",
        ...headers,
      },
      body: form ? new URLSearchParams(body).toString() : JSON.stringify(body),
    });
  const get = (path: string, token?: string) =>
    fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    // An external issuer trusted for token exchange only, serving its JWKS over HTTP.
    external = await openTokens({ issuer: "https://partner.example", audience: "amp-test" });
    const partnerUrl = await listen(authRoutes({ tokens: external.tokens }));
    opened = await openTokens({
      issuer: "amp-test",
      rootUser: "admin",
      exchangeIssuers: [{ issuer: "https://partner.example", jwksUrl: `${partnerUrl}/x/jwks.json` }],
    });
    const app = new Hono<{ Variables: AuthVariables }>();
    app.use("*", authMiddleware({ tokens: opened.tokens }));
    app.route("/", authRoutes({ tokens: opened.tokens, loginCodes: codes, rateLimit: { limit: 1000 } }));
    app.get("/whoami", (c) => c.json(c.get("user")));
    base = await listen(app);
  });
  afterAll(cleanup);

  it("makes callers without a token anonymous, and rejects bad tokens with 401", async () => {
    const anon = await jsonBody<AmpUser>(await get("/whoami"));
    expect(anon).toMatchObject({ anonymous: true, root: false });
    expect(anon.id).toMatch(/^anon-/);
    const bad = await get("/whoami", "not-a-token");
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);
    expect(await bad.json()).toEqual({ error: { code: "token_invalid", message: "token is not a JWT" } });
  });

  it("accepts the token from the Authorization header or ?token=", async () => {
    const token = await opened.tokens.issue("admin");
    expect(await (await get("/whoami", token)).json()).toMatchObject({ id: "admin", root: true });
    const viaQuery = await (await get(`/whoami?token=${token}`)).json();
    expect(viaQuery).toMatchObject({ id: "admin", root: true });
  });

  it("serves the JWKS", async () => {
    const res = await get("/x/jwks.json");
    expect(res.headers.get("cache-control")).toContain("max-age");
    const { keys } = await jsonBody<{ keys: Array<Record<string, unknown>> }>(res);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.d === undefined && typeof k.kid === "string")).toBe(true);
  });

  it("exchanges a login code (once) for access and refresh tokens, then refreshes", async () => {
    codes.add("code-1", { user: "alice", claims: { email: "alice@example.com" }, plugin: "oidc-main" });
    const res = await post("/x/token", { grant_type: "authorization_code", code: "code-1" });
    expect(res.status).toBe(200);
    const body = await jsonBody<TokenResponse>(res);
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 43_200 });
    const profile = await (await get("/x/profile", body.access_token)).json();
    expect(profile).toMatchObject({
      id: "alice",
      anonymous: false,
      claims: { email: "alice@example.com", amp_plugin: "oidc-main" },
    });
    const again = await post("/x/token", { grant_type: "authorization_code", code: "code-1" });
    expect(again.status).toBe(400);
    expect(await errorCode(again)).toBe("invalid_grant");

    const refreshed = await post(
      "/x/token",
      { grant_type: "refresh_token", refresh_token: body.refresh_token! },
      false,
    );
    expect(refreshed.status).toBe(200);
    const next = await jsonBody<TokenResponse>(refreshed);
    expect((await jsonBody<AmpUser>(await get("/x/profile", next.access_token))).id).toBe("alice");
    const replay = await post("/x/token", {
      grant_type: "refresh_token",
      refresh_token: body.refresh_token!,
    });
    expect(replay.status).toBe(400);
  });

  it("renews a current token from the body or the bearer header", async () => {
    const token = await opened.tokens.issue("bob");
    const viaBody = await post("/x/token", { grant_type: GRANT_RENEW, token });
    expect(viaBody.status).toBe(200);
    const viaHeader = await post("/x/token", { grant_type: GRANT_RENEW }, true, {
      authorization: `Bearer ${token}`,
    });
    const renewed = await jsonBody<TokenResponse>(viaHeader);
    expect(renewed.access_token).not.toBe(token);
    expect((await opened.tokens.verify(renewed.access_token)).id).toBe("bob");
  });

  it("exchanges a trusted external token and refuses an untrusted one", async () => {
    const partnerToken = await external.tokens.issue("pat", {
      claims: { email: "pat@partner.example", secret: "x" },
    });
    const res = await post("/x/token", {
      grant_type: GRANT_TOKEN_EXCHANGE,
      subject_token: partnerToken,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    });
    expect(res.status).toBe(200);
    const body = await jsonBody<TokenResponse>(res);
    expect(body.issued_token_type).toBe("urn:ietf:params:oauth:token-type:access_token");
    const user = await opened.tokens.verify(body.access_token);
    expect(user).toMatchObject({
      id: "pat",
      claims: { email: "pat@partner.example", ext_iss: "https://partner.example" },
    });
    expect(user.claims.secret).toBeUndefined();
    // The partner's token is not accepted directly: exchange only.
    expect((await get("/whoami", partnerToken)).status).toBe(401);
    const untrusted = await post("/x/token", {
      grant_type: GRANT_TOKEN_EXCHANGE,
      subject_token: await opened.tokens.issue("self"),
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    });
    expect(untrusted.status).toBe(400);
    expect(await errorCode(untrusted)).toBe("invalid_grant");
  });

  it("revokes a token: the middleware then answers 401", async () => {
    const token = await opened.tokens.issue("carol");
    expect((await get("/whoami", token)).status).toBe(200);
    const res = await post("/x/token/revoke", { token });
    expect(res.status).toBe(200);
    const after = await get("/whoami", token);
    expect(after.status).toBe(401);
    expect(await errorCode(after)).toBe("token_revoked");
    // Unknown tokens are accepted silently (RFC 7009), missing ones are not.
    expect((await post("/x/token/revoke", { token: "garbage" })).status).toBe(200);
    expect((await post("/x/token/revoke", {})).status).toBe(400);
  });

  it("answers bad requests with typed 400/413/415 errors", async () => {
    const unsupported = await post("/x/token", { grant_type: "password", username: "a", password: "b" });
    expect(unsupported.status).toBe(400);
    expect(await errorCode(unsupported)).toBe("unsupported_grant_type");
    const missing = await post("/x/token", { grant_type: "refresh_token" });
    expect(await errorCode(missing)).toBe("bad_request");
    const notJson = await fetch(`${base}/x/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect(notJson.status).toBe(400);
    const noType = await fetch(`${base}/x/token`, { method: "POST", body: "grant_type=x" });
    expect(noType.status).toBe(415);
    expect(await errorCode(noType)).toBe("unsupported_media_type");
    const big = await post("/x/token", { grant_type: "refresh_token", refresh_token: "x".repeat(40_000) });
    expect(big.status).toBe(413);
    expect(await errorCode(big)).toBe("too_large");
  });
});

describe("rate limit on the token endpoints", () => {
  afterAll(cleanup);

  it("answers 429 with Retry-After past the limit", async () => {
    const { tokens } = await openTokens();
    const base = await listen(authRoutes({ tokens, rateLimit: { limit: 3, windowSeconds: 60 } }));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${base}/x/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "grant_type=authorization_code&code=nope",
      });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
        expect(await errorCode(res)).toBe("rate_limited");
      }
    }
    expect(statuses).toEqual([400, 400, 400, 429, 429]);
    // The JWKS is not limited.
    expect((await fetch(`${base}/x/jwks.json`)).status).toBe(200);
  });
});

describe("OpenAPI description", () => {
  afterAll(cleanup);

  it("is generated from the same schemas that validate the requests", async () => {
    const { tokens } = await openTokens();
    const doc = authRoutes({ tokens }).getOpenAPIDocument({
      openapi: "3.0.0",
      info: { title: "amp auth", version: "1" },
    });
    expect(Object.keys(doc.paths ?? {}).sort()).toEqual([
      "/x/auth/keys",
      "/x/auth/revocations",
      "/x/jwks.json",
      "/x/profile",
      "/x/token",
      "/x/token/revoke",
    ]);
    const body = doc.paths?.["/x/token"]?.post?.requestBody as { content: Record<string, unknown> };
    expect(Object.keys(body.content).sort()).toEqual([
      "application/json",
      "application/x-www-form-urlencoded",
    ]);
    expect(JSON.stringify(doc.components?.schemas?.TokenRequest)).toContain(GRANT_TOKEN_EXCHANGE);
  });
});
