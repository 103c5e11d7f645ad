import { createPrivateKey, sign } from "node:crypto";
import { Hono } from "hono";
import { decodeProtectedHeader, type JWK } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { authRoutes } from "../src/http.js";
import { AUTH_VAULT_APP, type AuthVariables, authMiddleware, type TokenService } from "../src/index.js";
import { VerifiedTokenCache } from "../src/verified-token-cache.js";
import { b64url, cleanup, forger, listen, type OpenedTokens, openTokens } from "./helpers.js";
import { errorCode } from "./json.js";

afterEach(cleanup);

const stats = (tokens: TokenService) => tokens.verifiedTokenCacheStats();

describe("the verified-token cache", () => {
  it("serves a token seen again without a second signature check, for the header and ?token= alike", async () => {
    const { tokens } = await openTokens();
    const app = new Hono<{ Variables: AuthVariables }>();
    app.use("*", authMiddleware({ tokens }));
    app.get("/whoami", (c) => c.text(c.get("user").id));
    const token = await tokens.issue("alice");
    const byHeader = await app.request("/whoami", { headers: { authorization: `Bearer ${token}` } });
    expect(await byHeader.text()).toBe("alice");
    expect(stats(tokens)).toMatchObject({ size: 1, hits: 0, misses: 1 });
    const byQuery = await app.request(`/whoami?token=${token}`); // the WebSocket path
    expect(await byQuery.text()).toBe("alice");
    expect(await tokens.verify(token)).toMatchObject({ id: "alice" }); // the broker's path
    expect(stats(tokens)).toMatchObject({ size: 1, hits: 2, misses: 1 });
  });

  it("refuses a revoked token on the next request, although it is cached", async () => {
    const { tokens } = await openTokens();
    const app = new Hono<{ Variables: AuthVariables }>();
    app.use("*", authMiddleware({ tokens }));
    app.get("/whoami", (c) => c.text(c.get("user").id));
    app.route("/", authRoutes({ tokens }));
    const token = await tokens.issue("alice");
    const headers = { authorization: `Bearer ${token}` };
    for (let i = 0; i < 3; i++) expect((await app.request("/whoami", { headers })).status).toBe(200);
    expect(stats(tokens).hits).toBe(2);
    const revoked = await app.request("/x/token/revoke", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `token=${token}`,
    });
    expect(revoked.status).toBe(200);
    const after = await app.request("/whoami", { headers });
    expect(after.status).toBe(401);
    expect(await errorCode(after)).toBe("token_revoked");
    // The entry stays in the cache: the revocation set is consulted on every hit.
    expect(stats(tokens).size).toBe(1);
    const other = await tokens.issue("bob");
    await tokens.verify(other);
    await tokens.verify(other);
    expect(await tokens.revoke(other)).toBe(true);
    await expect(tokens.verify(other)).rejects.toMatchObject({ code: "token_revoked" });
  });

  it("never serves a cached token past its exp (with the clock skew)", async () => {
    let clock = Date.now();
    const { tokens } = await openTokens({ now: () => clock, clockSkewSeconds: 30 });
    const token = await tokens.issue("alice", { ttlSeconds: 60 });
    const exp = (await tokens.verify(token)).claims.exp as number;
    clock = (exp + 29) * 1000; // within the skew
    expect((await tokens.verify(token)).id).toBe("alice");
    expect(stats(tokens).hits).toBe(1);
    clock = (exp + 30) * 1000;
    await expect(tokens.verify(token)).rejects.toMatchObject({ code: "token_expired" });
    expect(stats(tokens).size).toBe(0);
  });

  it("refuses a token whose signing key was retired, and purges its entries", async () => {
    let clock = Date.now();
    const { tokens } = await openTokens({
      now: () => clock,
      sessionTimeoutSeconds: 600,
      refreshTokenTtlSeconds: 900,
    });
    const old = await tokens.issue("alice", { ttlSeconds: 7200 }); // outlives its key's overlap
    const oldKid = decodeProtectedHeader(old).kid;
    await tokens.verify(old);
    await tokens.rotateKeys();
    expect((await tokens.verify(old)).id).toBe("alice"); // in the overlap: still trusted, from the cache
    expect(stats(tokens)).toMatchObject({ size: 1, hits: 1 });
    clock += (900 + 301) * 1000; // past the overlap: the next rotation drops the old key
    await tokens.rotateKeys();
    expect(tokens.jwks().keys.map((k) => (k as { kid: string }).kid)).not.toContain(oldKid);
    expect(stats(tokens).size).toBe(0);
    await expect(tokens.verify(old)).rejects.toMatchObject({ code: "token_invalid" });
    const fresh = await tokens.issue("alice");
    expect((await tokens.verify(fresh)).id).toBe("alice");
  });

  it("stays within its bound under many distinct tokens", async () => {
    const { tokens } = await openTokens({ verifiedTokenCacheSize: 50 });
    const issued: string[] = [];
    for (let i = 0; i < 200; i++) {
      const token = await tokens.issue(`user-${i}`);
      issued.push(token);
      expect((await tokens.verify(token)).id).toBe(`user-${i}`);
      expect(stats(tokens).size).toBeLessThanOrEqual(50);
    }
    expect(stats(tokens)).toMatchObject({ size: 50, max: 50, hits: 0, misses: 200 });
    // The most recent are served from the cache; the evicted oldest verify again in full.
    await tokens.verify(issued[199]!);
    expect(stats(tokens).hits).toBe(1);
    expect((await tokens.verify(issued[0]!)).id).toBe("user-0");
    expect(stats(tokens)).toMatchObject({ size: 50, misses: 201 });
  });

  it("can be turned off", async () => {
    const { tokens } = await openTokens({ verifiedTokenCacheSize: 0 });
    const token = await tokens.issue("alice");
    await tokens.verify(token);
    await tokens.verify(token);
    expect(stats(tokens)).toEqual({ size: 0, max: 0, hits: 0, misses: 0 });
  });

  it("never lets a tampered token hit: a changed payload or signature is a different key and fails", async () => {
    const opened = await openTokens();
    const { tokens } = opened;
    const token = await tokens.issue("alice");
    await tokens.verify(token);
    const [h, p, s] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    const asRoot = `${h}.${b64url({ ...claims, sub: "root" })}.${s}`;
    const flipped = `${h}.${p}.${s.startsWith("A") ? "B" : "A"}${s.slice(1)}`;
    for (const forged of [asRoot, flipped, `${h}.${p}.`, `${h}.${p}`]) {
      await expect(tokens.verify(forged)).rejects.toMatchObject({ code: "token_invalid" });
      await expect(tokens.verify(forged)).rejects.toMatchObject({ code: "token_invalid" });
    }
    expect(stats(tokens)).toMatchObject({ size: 1, hits: 0 });
    // A token failing a claim check (wrong audience) with a valid signature is not cached either.
    const forge = await forger(opened);
    const now = Math.floor(Date.now() / 1000);
    const refused: Array<[string, string]> = [
      [await forge.sign({ aud: "someone-else" }), "token_invalid"],
      [await forge.sign({ iss: "https://elsewhere.example" }), "token_invalid"],
      [await forge.sign({ jti: undefined }), "token_invalid"],
      [await forge.sign({ exp: "later" }), "token_invalid"],
      [await forge.sign({ nbf: now + 3600 }), "token_not_yet_valid"],
      [await forge.sign({ exp: now - 3600 }), "token_expired"],
      [await forge.sign({}, { typ: "rt+jwt" }), "token_invalid"],
      [await forge.sign({}, { typ: undefined }), "token_invalid"],
      [await signedWithCrit(opened), "token_invalid"],
    ];
    for (const [forged, code] of refused) {
      await expect(tokens.verify(forged)).rejects.toMatchObject({ code });
      await expect(tokens.verify(forged)).rejects.toMatchObject({ code });
    }
    expect(stats(tokens)).toMatchObject({ size: 1, hits: 0 });
    // The controls: the forger and the hand-signed token without `crit` verify.
    expect((await tokens.verify(await forge.sign())).id).toBe("alice");
    expect((await tokens.verify(await signedWithCrit(opened, false))).id).toBe("alice");
  });

  it("re-checks the login plugin on every hit", async () => {
    const deleted = new Set<string>();
    const { tokens } = await openTokens({ pluginActive: (id) => !deleted.has(id) });
    const token = await tokens.issue("carol", { plugin: "cfg" });
    await tokens.verify(token);
    await tokens.verify(token);
    expect(stats(tokens).hits).toBe(1);
    deleted.add("cfg");
    await expect(tokens.verify(token)).rejects.toMatchObject({ code: "token_plugin_deleted" });
  });

  it("keeps ES256 tokens verified by node:crypto the same way", async () => {
    const { tokens } = await openTokens({ algorithm: "ES256" });
    const token = await tokens.issue("alice");
    expect(decodeProtectedHeader(token).alg).toBe("ES256");
    expect((await tokens.verify(token)).id).toBe("alice");
    expect((await tokens.verify(token)).id).toBe("alice");
    expect(stats(tokens)).toMatchObject({ size: 1, hits: 1 });
    const [h, p, s] = token.split(".") as [string, string, string];
    // One character in the middle of the signature, always changed (a fixed tail such as "AA"
    // left the signature as it was once in 256 runs).
    const tampered = `${s.slice(0, 20)}${s[20] === "A" ? "B" : "A"}${s.slice(21)}`;
    await expect(tokens.verify(`${h}.${p}.${tampered}`)).rejects.toMatchObject({
      code: "token_invalid",
    });
  });
});

/** A token signed with the real key whose header carries a `crit` extension (jose will not sign one). */
async function signedWithCrit(opened: OpenedTokens, crit = true): Promise<string> {
  const stored = JSON.parse((await opened.secrets.scoped(AUTH_VAULT_APP).get("signing-keys"))!) as {
    keys: Array<{ kid: string; privateJwk: JWK; retiredAt?: number }>;
  };
  const active = stored.keys.find((k) => k.retiredAt === undefined)!;
  const now = Math.floor(Date.now() / 1000);
  const extension = crit ? { crit: ["amp_x"], amp_x: 1 } : {};
  const header = b64url({ alg: "EdDSA", kid: active.kid, typ: "at+jwt", ...extension });
  const payload = b64url({
    iss: opened.tokens.issuer,
    aud: opened.tokens.audience,
    sub: "alice",
    iat: now,
    exp: now + 600,
    jti: `crit-${crit}`,
  });
  const key = createPrivateKey({ key: active.privateJwk as never, format: "jwk" });
  const signature = sign(null, Buffer.from(`${header}.${payload}`), key).toString("base64url");
  return `${header}.${payload}.${signature}`;
}

describe("the verified-token cache with a central issuer (remote JWKS)", () => {
  it("caches its tokens the same way: revocation on the next request, expiry, a dropped key refused after the JWKS max age", async () => {
    let centralClock = Date.now();
    const central = await openTokens({
      issuer: "https://central.remix.example",
      audience: "amp-edge",
      now: () => centralClock,
      sessionTimeoutSeconds: 600,
      refreshTokenTtlSeconds: 900,
    });
    let fetches = 0;
    const centralApp = new Hono();
    centralApp.use("/x/jwks.json", async (_c, next) => {
      fetches++;
      await next();
    });
    centralApp.route("/", authRoutes({ tokens: central.tokens }));
    const centralUrl = await listen(centralApp);
    let clock = Date.now();
    const { tokens } = await openTokens({
      issuer: "amp-edge",
      now: () => clock,
      centralIssuer: {
        issuer: "https://central.remix.example",
        jwksUrl: `${centralUrl}/x/jwks.json`,
        refetchCooldownMs: 0,
        cacheMaxAgeMs: 300,
      },
    });

    const token = await central.tokens.issue("alice", { ttlSeconds: 7200 });
    expect((await tokens.verify(token)).id).toBe("alice");
    expect((await tokens.verify(token)).id).toBe("alice");
    expect(stats(tokens)).toMatchObject({ size: 1, hits: 1, misses: 1 });
    expect(fetches).toBe(1);

    // Revoked here: refused on the next request though cached.
    const revokedOne = await central.tokens.issue("bob", { ttlSeconds: 7200 });
    await tokens.verify(revokedOne);
    expect(await tokens.revoke(revokedOne)).toBe(true);
    await expect(tokens.verify(revokedOne)).rejects.toMatchObject({ code: "token_revoked" });

    // Expiry: a cached central token stops at its exp (+ skew).
    const short = await central.tokens.issue("carol", { ttlSeconds: 60 });
    const exp = (await tokens.verify(short)).claims.exp as number;
    clock = (exp + 30) * 1000;
    await expect(tokens.verify(short)).rejects.toMatchObject({ code: "token_expired" });
    clock = Date.now();

    // The central issuer drops the key: once our copy of its JWKS is past its max age, the
    // next request verifies in full, refetches, and is refused.
    await central.tokens.rotateKeys();
    centralClock += (900 + 301) * 1000;
    await central.tokens.rotateKeys();
    expect((await tokens.verify(token)).id).toBe("alice"); // our copy of its JWKS is still fresh
    expect(central.tokens.jwks().keys.map((k) => (k as { kid: string }).kid)).not.toContain(
      decodeProtectedHeader(token).kid,
    );
    await new Promise((resolve) => setTimeout(resolve, 350));
    await expect(tokens.verify(token)).rejects.toMatchObject({ code: "token_invalid" });
    expect(fetches).toBeGreaterThan(1);
    clock = centralClock;
    const fresh = await central.tokens.issue("alice");
    expect((await tokens.verify(fresh)).id).toBe("alice");
    expect((await tokens.verify(fresh)).id).toBe("alice");
    expect(stats(tokens).hits).toBeGreaterThanOrEqual(2);
  });
});

describe("VerifiedTokenCache", () => {
  const entry = (kid: string) => ({
    value: kid,
    source: "local" as const,
    kid,
    exp: 1,
    revocationId: kid,
    plugin: undefined,
  });

  it("evicts the least recently used entry at its bound", () => {
    const cache = new VerifiedTokenCache<string>(2);
    cache.set("a", entry("a"));
    cache.set("b", entry("b"));
    cache.get("a"); // a is now the most recent
    cache.set("c", entry("c"));
    expect([cache.get("a")?.kid, cache.get("b")?.kid, cache.get("c")?.kid]).toEqual(["a", undefined, "c"]);
    expect(cache.size).toBe(2);
  });

  it("keys by a SHA-256 of the token, never the token", () => {
    const cache = new VerifiedTokenCache<string>();
    const token = "eyJhbGciOiJFZERTQSJ9.e30.c2ln";
    expect(cache.keyOf(token)).not.toContain(token);
    expect(Buffer.from(cache.keyOf(token), "base64")).toHaveLength(32);
  });

  it("purges by kid", () => {
    const cache = new VerifiedTokenCache<string>();
    for (const kid of ["k1", "k1", "k2"]) cache.set(`${kid}-${Math.random()}`, entry(kid));
    expect(cache.purge((e) => e.kid === "k1")).toBe(2);
    expect(cache.size).toBe(1);
  });
});
