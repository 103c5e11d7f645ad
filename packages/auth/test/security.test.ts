import { Hono } from "hono";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AmpUser, type AuthVariables, authMiddleware } from "../src/index.js";
import { b64url, cleanup, forger, type OpenedTokens, openTokens } from "./helpers.js";

/** Every token here must be rejected with 401 by `verify` and by the middleware, never downgraded to anonymous. */
describe("security: rejected tokens", () => {
  let opened: OpenedTokens;
  let forge: Awaited<ReturnType<typeof forger>>;
  const deletedPlugins = new Set(["deleted-config"]);
  const app = new Hono<{ Variables: AuthVariables }>();

  beforeAll(async () => {
    opened = await openTokens({ pluginActive: (id) => !deletedPlugins.has(id) });
    forge = await forger(opened);
    app.use("*", authMiddleware({ tokens: opened.tokens }));
    app.get("/whoami", (c) => c.json(c.get("user")));
  });
  afterAll(cleanup);

  async function expectRejected(token: string, code: string) {
    await expect(opened.tokens.verify(token)).rejects.toMatchObject({ code, status: 401 });
    const res = await app.request("/whoami", { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code } });
    const viaQuery = await app.request(`/whoami?token=${encodeURIComponent(token)}`);
    expect(viaQuery.status).toBe(401);
  }

  it("accepts the untampered control token (so the rejections below are meaningful)", async () => {
    const user: AmpUser = await opened.tokens.verify(await forge.sign());
    expect(user).toMatchObject({ id: "alice", anonymous: false });
    const res = await app.request("/whoami", { headers: { authorization: `Bearer ${await forge.sign()}` } });
    expect(await res.json()).toMatchObject({ id: "alice" });
  });

  it("rejects alg: none", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: opened.tokens.issuer,
      aud: opened.tokens.audience,
      sub: "alice",
      iat: now,
      exp: now + 600,
      jti: "x",
    };
    await expectRejected(
      `${b64url({ alg: "none", typ: "at+jwt", kid: forge.kid })}.${b64url(claims)}.`,
      "token_invalid",
    );
    await expectRejected(`${b64url({ alg: "none" })}.${b64url(claims)}.`, "token_invalid");
  });

  it("rejects HS256 signed with the public key (algorithm confusion)", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: opened.tokens.issuer,
      aud: opened.tokens.audience,
      sub: "root",
      iat: now,
      exp: now + 600,
      jti: "y",
    };
    const secrets = [
      new TextEncoder().encode(JSON.stringify(forge.publicJwk)),
      Buffer.from(forge.publicJwk.x!, "base64url"),
    ];
    for (const secret of secrets) {
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256", kid: forge.kid, typ: "at+jwt" })
        .sign(secret);
      await expectRejected(token, "token_invalid");
    }
  });

  it("rejects an expired token, and one not yet valid", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRejected(
      await forge.sign({ iat: now - 7200, nbf: now - 7200, exp: now - 3600 }),
      "token_expired",
    );
    // Within the 30 s skew an expired token still passes; beyond it, not.
    await expect(opened.tokens.verify(await forge.sign({ exp: now - 10 }))).resolves.toMatchObject({
      id: "alice",
    });
    await expectRejected(await forge.sign({ exp: now - 60 }), "token_expired");
    await expectRejected(await forge.sign({ nbf: now + 3600, iat: now }), "token_not_yet_valid");
  });

  it("rejects the wrong issuer or audience", async () => {
    await expectRejected(await forge.sign({ iss: "https://evil.example" }), "token_invalid");
    await expectRejected(await forge.sign({ aud: "some-other-service" }), "token_invalid");
    await expectRejected(await forge.sign({ aud: undefined }), "token_invalid");
  });

  it("rejects a tampered payload or signature", async () => {
    const token = await forge.sign();
    const [h, p, s] = token.split(".") as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, "base64url").toString());
    await expectRejected(`${h}.${b64url({ ...payload, sub: "root" })}.${s}`, "token_invalid");
    const sig = Buffer.from(s, "base64url");
    sig[5]! ^= 1;
    await expectRejected(`${h}.${p}.${sig.toString("base64url")}`, "token_invalid");
    await expectRejected(`${h}.${p}.`, "token_invalid");
    await expectRejected(`${h}.${p}`, "token_invalid");
  });

  it("rejects an unknown or missing kid", async () => {
    await expectRejected(await forge.sign({}, { kid: "no-such-key" }), "token_invalid");
    await expectRejected(await forge.sign({}, { kid: undefined }), "token_invalid");
  });

  it("rejects a revoked token, and the revocation survives a restart", async () => {
    const token = await opened.tokens.issue("bob");
    await expect(opened.tokens.verify(token)).resolves.toMatchObject({ id: "bob" });
    expect(await opened.tokens.revoke(token)).toBe(true);
    await expectRejected(token, "token_revoked");
    const restarted = await openTokens({}, opened.dir);
    await expect(restarted.tokens.verify(token)).rejects.toMatchObject({ code: "token_revoked" });
  });

  it("rejects a token from a deleted plugin configuration", async () => {
    const live = await opened.tokens.issue("carol", { plugin: "live-config" });
    await expect(opened.tokens.verify(live)).resolves.toMatchObject({ id: "carol" });
    const token = await opened.tokens.issue("carol", { plugin: "doomed-config" });
    await expect(opened.tokens.verify(token)).resolves.toMatchObject({ id: "carol" });
    deletedPlugins.add("doomed-config");
    await expectRejected(token, "token_plugin_deleted");
  });

  it("rejects a refresh token used as an access token, and an unsupported Authorization scheme", async () => {
    const { refresh_token } = await opened.tokens.issueSession({ user: "dave", claims: {} });
    await expectRejected(refresh_token!, "token_invalid");
    const res = await app.request("/whoami", { headers: { authorization: "Basic YWxpY2U6cHc=" } });
    expect(res.status).toBe(401);
  });

  it("rejects garbage and oversized tokens without crashing", async () => {
    for (const junk of ["x", "a.b.c", "....", `${b64url("{")}.${b64url("[")}.x`, "a".repeat(9000)]) {
      await expectRejected(junk, "token_invalid");
    }
  });
});
