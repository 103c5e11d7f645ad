import { Hono } from "hono";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authRoutes } from "../src/http.js";
import { type AuthVariables, authMiddleware } from "../src/index.js";
import { cleanup, listen, type OpenedTokens, openTokens } from "./helpers.js";
import { errorCode, jsonBody } from "./json.js";

interface Key {
  kid: string;
  alg: string;
  signing: boolean;
  createdAt: string;
  rotatesAt?: string;
  retiredAt?: string;
  verifiesUntil?: string;
}
interface Revocation {
  id: string;
  kind: string;
  issuer?: string;
  jti?: string;
  expiresAt: string;
  user?: string;
  revokedAt?: string;
  by?: string;
}
interface Page {
  revocations: Revocation[];
  next?: string;
}

describe("/x/auth/keys and /x/auth/revocations (root only), on real LMDB", () => {
  let opened: OpenedTokens;
  let base: string;
  let root: string;
  let alice: string;
  const get = (path: string, token?: string) =>
    fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    opened = await openTokens({
      issuer: "amp-keys",
      rootUser: "admin",
      keyRotationSeconds: 3600,
      sessionTimeoutSeconds: 600,
      refreshTokenTtlSeconds: 900,
    });
    const app = new Hono<{ Variables: AuthVariables }>();
    app.use("*", authMiddleware({ tokens: opened.tokens }));
    app.route("/", authRoutes({ tokens: opened.tokens }));
    base = await listen(app);
    root = await opened.tokens.issue("admin");
    alice = await opened.tokens.issue("alice");
  });
  afterAll(cleanup);

  it("lists the signing key and, after a rotation, the replaced one with its dates, never key material", async () => {
    const before = await jsonBody<{ keys: Key[] }>(await get("/x/auth/keys", root));
    expect(before.keys).toHaveLength(1);
    const [first] = before.keys;
    expect(first).toMatchObject({ alg: "EdDSA", signing: true });
    expect(Date.parse(first!.rotatesAt!) - Date.parse(first!.createdAt)).toBe(3600 * 1000);

    await opened.tokens.rotateKeys();
    const res = await get("/x/auth/keys", root);
    const text = await res.text();
    for (const secret of ['"d"', "privateJwk", "publicJwk", '"x"']) expect(text).not.toContain(secret);
    const { keys } = JSON.parse(text) as { keys: Key[] };
    expect(keys.map((k) => k.signing)).toEqual([true, false]);
    const old = keys.find((k) => k.kid === first!.kid)!;
    expect(old.rotatesAt).toBeUndefined();
    // A replaced key verifies as long as the longest token it signed: max(session, refresh) + 300 s.
    expect(Date.parse(old.verifiesUntil!) - Date.parse(old.retiredAt!)).toBe((900 + 300) * 1000);
    // The JWKS publishes the same kids.
    const jwks = await jsonBody<{ keys: { kid: string }[] }>(await get("/x/jwks.json"));
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual(keys.map((k) => k.kid).sort());
  });

  it("lists revocations in id order, paged, with the token's issuer, jti, expiry, user, when and by whom", async () => {
    const revoked: string[] = [];
    const users = new Map<string, string>();
    const before = Date.now() - 1000;
    for (let i = 0; i < 5; i++) {
      const token = await opened.tokens.issue(`user${i}`);
      if (i === 0) {
        // Through the route, signed in as root: the revoker is kept.
        const res = await fetch(`${base}/x/token/revoke`, {
          method: "POST",
          headers: { authorization: `Bearer ${root}`, "content-type": "application/json" },
          body: JSON.stringify({ token }),
        });
        expect(res.status).toBe(200);
      } else {
        expect(await opened.tokens.revoke(token)).toBe(true);
      }
      revoked.push(decodeJwt(token).jti!);
      users.set(decodeJwt(token).jti!, `user${i}`);
    }
    const first = await jsonBody<Page>(await get("/x/auth/revocations?limit=3", root));
    expect(first.revocations).toHaveLength(3);
    expect(first.next).toBe(first.revocations[2]!.id);
    const second = await jsonBody<Page>(
      await get(`/x/auth/revocations?limit=3&after=${encodeURIComponent(first.next!)}`, root),
    );
    expect(second.next).toBeUndefined();
    const all = [...first.revocations, ...second.revocations];
    expect(all.map((r) => r.jti)).toEqual(revoked.sort());
    expect(all.every((r) => r.kind === "jti" && r.issuer === "amp-keys")).toBe(true);
    expect(Date.parse(all[0]!.expiresAt)).toBeGreaterThan(Date.now());
    for (const r of all) {
      expect(r.user).toBe(users.get(r.jti!));
      expect(Date.parse(r.revokedAt!)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(r.revokedAt!)).toBeLessThanOrEqual(Date.now());
      expect(r.by).toBe(r.user === "user0" ? "admin" : undefined);
    }
  });

  it("refuses non-root (403 forbidden), anonymous (401) and bad paging (400)", async () => {
    for (const path of ["/x/auth/keys", "/x/auth/revocations"]) {
      const forbidden = await get(path, alice);
      expect(forbidden.status).toBe(403);
      expect(await errorCode(forbidden)).toBe("forbidden");
      const anonymous = await get(path);
      expect(anonymous.status).toBe(401);
      expect(await errorCode(anonymous)).toBe("unauthenticated");
    }
    for (const query of ["limit=0", "limit=1001", "limit=ten", `after=${"x".repeat(1025)}`]) {
      const bad = await get(`/x/auth/revocations?${query}`, root);
      expect(bad.status, query).toBe(400);
      expect(await errorCode(bad)).toBe("bad_request");
    }
    expect((await get("/x/auth/revocations?limit=1000", root)).status).toBe(200);
  });
});
