import { Hono } from "hono";
import { decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authRoutes } from "../src/http.js";
import { type AuthVariables, authMiddleware } from "../src/index.js";
import { cleanup, listen, type OpenedTokens, openTokens } from "./helpers.js";
import { errorCode } from "./json.js";

describe("a central issuer: a second TokenService serving its JWKS over HTTP", () => {
  let central: OpenedTokens;
  let local: OpenedTokens;
  let jwksFetches = 0;
  let base: string;

  beforeAll(async () => {
    central = await openTokens({ issuer: "https://central.remix.example", audience: "amp-edge" });
    const centralApp = new Hono();
    centralApp.use("/x/jwks.json", async (_c, next) => {
      jwksFetches++;
      await next();
    });
    centralApp.route("/", authRoutes({ tokens: central.tokens }));
    const centralUrl = await listen(centralApp);
    local = await openTokens({
      issuer: "amp-edge",
      rootUser: "ops",
      centralIssuer: {
        issuer: "https://central.remix.example",
        jwksUrl: `${centralUrl}/x/jwks.json`,
        refetchCooldownMs: 0,
      },
    });
    const app = new Hono<{ Variables: AuthVariables }>();
    app.use("*", authMiddleware({ tokens: local.tokens }));
    app.get("/whoami", (c) => c.json(c.get("user")));
    base = await listen(app);
  });
  afterAll(cleanup);

  const whoami = (token: string) =>
    fetch(`${base}/whoami`, { headers: { authorization: `Bearer ${token}` } });

  it("accepts its tokens through the fetched JWKS, and caches the JWKS", async () => {
    const token = await central.tokens.issue("ops", { claims: { roles: ["admin"] } });
    const res = await whoami(token);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: "ops", root: true, roles: ["admin"] });
    expect((await whoami(await central.tokens.issue("someone"))).status).toBe(200);
    expect(jwksFetches).toBe(1);
    // Local tokens keep working beside it.
    expect((await whoami(await local.tokens.issue("me"))).status).toBe(200);
  });

  it("picks up the central issuer's new key after it rotates", async () => {
    const before = await central.tokens.issue("alice");
    await central.tokens.rotateKeys();
    const after = await central.tokens.issue("alice");
    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
    const fetchesBefore = jwksFetches;
    const res = await whoami(after);
    expect(res.status).toBe(200);
    expect(jwksFetches).toBe(fetchesBefore + 1);
    expect((await whoami(before)).status).toBe(200); // the old key is still in its JWKS (overlap)
  });

  it("rejects its refresh tokens in place of access tokens", async () => {
    const { refresh_token, access_token } = await central.tokens.issueSession({ user: "alice", claims: {} });
    expect((await whoami(access_token)).status).toBe(200);
    const res = await whoami(refresh_token!);
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe("token_invalid");
  });

  it("answers 503, never anonymous, while the issuer's JWKS is unreachable", async () => {
    const unreachable = await openTokens({
      centralIssuer: { issuer: "https://central.remix.example", jwksUrl: "http://127.0.0.1:9/x/jwks.json" },
      audience: "amp-edge",
      issuer: "amp-edge",
    });
    const app = new Hono<{ Variables: AuthVariables }>();
    app.use("*", authMiddleware({ tokens: unreachable.tokens }));
    app.get("/whoami", (c) => c.json(c.get("user")));
    const res = await app.request("/whoami", {
      headers: { authorization: `Bearer ${await central.tokens.issue("ops")}` },
    });
    expect(res.status).toBe(503);
    expect(await errorCode(res)).toBe("issuer_unavailable");
  });

  it("rejects its tokens for another audience, and tokens of an untrusted issuer with the same shape", async () => {
    const other = await openTokens({ issuer: "https://central.remix.example", audience: "amp-edge" });
    const forged = await other.tokens.issue("ops"); // right iss and aud, but a key the central JWKS lacks
    const res = await whoami(forged);
    expect(res.status).toBe(401);
    const wrongAud = await openTokens(
      { issuer: "https://central.remix.example", audience: "elsewhere" },
      central.dir,
    );
    expect((await whoami(await wrongAud.tokens.issue("ops"))).status).toBe(401);
  });
});
