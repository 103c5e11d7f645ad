import { readFileSync } from "node:fs";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AmpAuthClient, AmpAuthError, decodeClaims } from "../src/client.js";
import { authRoutes } from "../src/http.js";
import { type AmpUser, type AuthVariables, authMiddleware } from "../src/index.js";
import { cleanup, listen, type OpenedTokens, openTokens } from "./helpers.js";
import { jsonBody } from "./json.js";

describe("@amp/auth/client against a real server", () => {
  let opened: OpenedTokens;
  let base: string;
  let tokenCalls = 0;

  beforeAll(async () => {
    opened = await openTokens({ sessionTimeoutSeconds: 600 });
    const app = new Hono<{ Variables: AuthVariables }>();
    app.use("/x/token", async (_c, next) => {
      tokenCalls++;
      await next();
    });
    app.use("*", authMiddleware({ tokens: opened.tokens }));
    app.route("/", authRoutes({ tokens: opened.tokens, rateLimit: { limit: 1000 } }));
    base = await listen(app);
  });
  afterAll(cleanup);

  it("is browser-safe: no imports at all", () => {
    const source = readFileSync(new URL("../src/client.ts", import.meta.url), "utf8");
    expect(source).not.toMatch(/^\s*import\s/m);
    expect(source).not.toContain("node:");
  });

  it("reads claims and attaches the bearer", async () => {
    const client = new AmpAuthClient({ baseUrl: base, accessToken: await opened.tokens.issue("alice") });
    expect(client.claims()).toMatchObject({ sub: "alice", iss: "amp" });
    expect(client.needsRenewal()).toBe(false);
    const profile = await jsonBody<AmpUser>(await client.fetch(`${base}/x/profile`));
    expect(profile.id).toBe("alice");
    expect(() => decodeClaims("nope")).toThrow(TypeError);
  });

  it("renews ahead of expiry, once for concurrent requests", async () => {
    const seen: string[] = [];
    const first = await opened.tokens.issue("bob");
    const client = new AmpAuthClient({
      baseUrl: base,
      accessToken: first,
      renewBeforeSeconds: 3600, // longer than the 600 s session: always due
      onTokens: ({ accessToken }) => seen.push(accessToken),
    });
    expect(client.needsRenewal()).toBe(true);
    const calls = tokenCalls;
    const answers = await Promise.all([1, 2, 3].map(() => client.fetch(`${base}/x/profile`)));
    expect(tokenCalls).toBe(calls + 1);
    expect(seen).toHaveLength(1);
    for (const res of answers) expect((await jsonBody<AmpUser>(res)).id).toBe("bob");
    expect(client.token).not.toBe(first);
  });

  it("uses the refresh token when it has one", async () => {
    const session = await opened.tokens.issueSession({ user: "carol", claims: {} });
    const client = new AmpAuthClient({
      baseUrl: base,
      accessToken: session.access_token,
      refreshToken: session.refresh_token,
    });
    await client.renew();
    expect((await opened.tokens.verify(client.token!)).id).toBe("carol");
    // The old refresh token was consumed; the client holds the new one and can renew again.
    await expect(opened.tokens.refresh(session.refresh_token!)).rejects.toMatchObject({
      code: "invalid_grant",
    });
    await client.renew();
  });

  it("reports a refused renewal with the server's error code", async () => {
    const token = await opened.tokens.issue("dave");
    await opened.tokens.revoke(token);
    const client = new AmpAuthClient({ baseUrl: base, accessToken: token });
    const err = await client.renew().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AmpAuthError);
    expect(err).toMatchObject({ code: "invalid_grant", status: 400 });
  });
});
