import { decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { AUTH_VAULT_APP } from "../src/index.js";
import { cleanup, openTokens, tempDir } from "./helpers.js";

afterEach(cleanup);

describe("TokenService", () => {
  it("signs EdDSA tokens by default that verify against its published JWKS", async () => {
    const { tokens } = await openTokens({ issuer: "https://amp.example", rootUser: "admin" });
    const token = await tokens.issue("alice", {
      claims: { roles: ["builder", 7], name: "Alice", sub: "root" },
    });
    const header = decodeProtectedHeader(token);
    expect(header).toMatchObject({ alg: "EdDSA", typ: "at+jwt" });
    const jwk = tokens.jwks().keys.find((k) => (k as { kid: string }).kid === header.kid)!;
    expect(jwk).toMatchObject({ kty: "OKP", crv: "Ed25519", use: "sig" });
    expect(jwk).not.toHaveProperty("d");
    const { payload } = await jwtVerify(token, await importJWK(jwk as never, "EdDSA"), {
      issuer: "https://amp.example",
      audience: "https://amp.example",
    });
    expect(payload.sub).toBe("alice"); // a caller cannot override registered claims
    const user = await tokens.verify(token);
    expect(user).toMatchObject({ id: "alice", anonymous: false, root: false, roles: ["builder"] });
    expect(user.claims.name).toBe("Alice");
    expect((await tokens.verify(await tokens.issue("admin"))).root).toBe(true);
  });

  it("supports ES256, and switching algorithm rotates the key", async () => {
    const dir = tempDir();
    const first = await openTokens({}, dir);
    const ed = await first.tokens.issue("alice");
    await first.tokens.close();
    const { tokens } = await openTokens({ algorithm: "ES256" }, dir);
    const es = await tokens.issue("alice");
    expect(decodeProtectedHeader(es).alg).toBe("ES256");
    expect((await tokens.verify(es)).id).toBe("alice");
    expect((await tokens.verify(ed)).id).toBe("alice"); // the retired EdDSA key still verifies
    expect(tokens.jwks().keys).toHaveLength(2);
  });

  it("keeps its keys across restarts, encrypted in @amp/secrets", async () => {
    const dir = tempDir();
    const first = await openTokens({}, dir);
    const token = await first.tokens.issue("alice");
    expect((await first.secrets.list(AUTH_VAULT_APP)).map((s) => s.name)).toEqual(["signing-keys"]);
    await first.tokens.close();
    const second = await openTokens({}, dir);
    expect((await second.tokens.verify(token)).id).toBe("alice");
    expect(second.tokens.jwks()).toEqual(first.tokens.jwks());
  });

  it("rotates with overlap: old tokens verify until the overlap ends, new ones use the new key", async () => {
    let clock = Date.now();
    const { tokens } = await openTokens({
      now: () => clock,
      sessionTimeoutSeconds: 600,
      refreshTokenTtlSeconds: 900,
    });
    const old = await tokens.issue("alice", { ttlSeconds: 60 });
    const oldKid = decodeProtectedHeader(old).kid;
    await tokens.rotateKeys();
    const fresh = await tokens.issue("alice");
    expect(decodeProtectedHeader(fresh).kid).not.toBe(oldKid);
    expect(tokens.jwks().keys.map((k) => (k as { kid: string }).kid)).toContain(oldKid);
    expect((await tokens.verify(old)).id).toBe("alice");
    // Overlap = max(session, refresh) + 5 min; past it the old key is dropped on the next rotation.
    clock += (900 + 301) * 1000;
    await tokens.rotateKeys();
    expect(tokens.jwks().keys.map((k) => (k as { kid: string }).kid)).not.toContain(oldKid);
  });

  it("rotates automatically when the active key reaches its age", async () => {
    let clock = Date.now();
    const { tokens } = await openTokens({ now: () => clock, keyRotationSeconds: 3600 });
    const kid1 = decodeProtectedHeader(await tokens.issue("a")).kid;
    clock += 3601 * 1000;
    const kid2 = decodeProtectedHeader(await tokens.issue("a")).kid;
    expect(kid2).not.toBe(kid1);
  });

  it("refresh tokens are single-use and carry the login's claims and plugin", async () => {
    const { tokens } = await openTokens();
    const session = await tokens.issueSession({
      user: "alice",
      claims: { email: "a@example.com" },
      plugin: "oidc-1",
    });
    const next = await tokens.refresh(session.refresh_token!);
    const user = await tokens.verify(next.access_token);
    expect(user.claims).toMatchObject({ email: "a@example.com", amp_plugin: "oidc-1" });
    await expect(tokens.refresh(session.refresh_token!)).rejects.toMatchObject({
      code: "invalid_grant",
      status: 400,
    });
    await expect(tokens.refresh(next.access_token)).rejects.toMatchObject({ code: "invalid_grant" });
  });

  it("renews a current token, but not beyond the maximum session length", async () => {
    let clock = Date.now();
    const { tokens } = await openTokens({
      now: () => clock,
      sessionTimeoutSeconds: 600,
      maxSessionSeconds: 1000,
    });
    const first = await tokens.issue("alice", { claims: { name: "A" } });
    clock += 500 * 1000;
    const renewed = await tokens.renew(first);
    expect(renewed.expires_in).toBe(500); // capped by what is left of the 1000 s session
    expect((await tokens.verify(renewed.access_token)).claims.name).toBe("A");
    clock += 400 * 1000;
    expect((await tokens.renew(renewed.access_token)).expires_in).toBe(100);
    await expect(tokens.renew(first)).rejects.toMatchObject({ code: "invalid_grant" }); // expired
    clock += 200 * 1000;
    await expect(tokens.renew(renewed.access_token)).rejects.toMatchObject({ code: "invalid_grant" });
  });

  it("validates what it signs", async () => {
    const { tokens } = await openTokens();
    await expect(tokens.issue("anon-123")).rejects.toMatchObject({ code: "invalid_request" });
    await expect(tokens.issue("")).rejects.toMatchObject({ code: "invalid_request" });
    await expect(tokens.issue("a b")).rejects.toMatchObject({ code: "invalid_request" });
    await expect(tokens.issue("a", { ttlSeconds: 0 })).rejects.toMatchObject({ code: "invalid_request" });
    await expect(tokens.issue("a", { claims: { big: "x".repeat(5000) } })).rejects.toMatchObject({
      code: "invalid_request",
    });
  });

  it("never logs a token", async () => {
    const { pino } = await import("pino");
    const lines: string[] = [];
    const logger = pino({ level: "trace" }, { write: (line: string) => lines.push(line) });
    const { tokens } = await openTokens({ logger });
    const session = await tokens.issueSession({ user: "alice", claims: {} });
    await tokens.verify(session.access_token);
    await tokens.refresh(session.refresh_token!);
    await tokens.revoke(session.access_token);
    await tokens.rotateKeys();
    const log = lines.join("\n");
    expect(log).toContain("token revoked");
    for (const token of [session.access_token, session.refresh_token!]) {
      for (const part of token.split(".")) expect(log).not.toContain(part);
    }
  });

  it("gives anonymous users anon-<id> names", async () => {
    const { tokens } = await openTokens();
    const a = tokens.anonymous();
    expect(a).toMatchObject({ anonymous: true, root: false, claims: {} });
    expect(a.id).toMatch(/^anon-[0-9a-f]{16}$/);
    expect(tokens.anonymous().id).not.toBe(a.id);
  });
});
