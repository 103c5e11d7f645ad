import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { addVirtualAuthenticator, launchChromium } from "@amp/test-support";
import { Hono } from "hono";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authRoutes } from "../../src/http.js";
import { AUTH_VAULT_APP, authMiddleware, TokenService } from "../../src/index.js";
import {
  LoginCodeStore,
  loginRoutes,
  PasskeyCredentialStore,
  PasskeyService,
  PluginConfigStore,
} from "../../src/login/index.js";
import type { AuthVariables } from "../../src/user.js";
import { listen, silentLogger, tempLoginStores } from "./helpers.js";

// The package's exports map hides its UMD bundle; read it from the package folder.
const browserBundle = readFileSync(
  fileURLToPath(
    new URL("../../node_modules/@simplewebauthn/browser/dist/bundle/index.umd.min.js", import.meta.url),
  ),
  "utf8",
);

/** The page our server serves: it drives registration and login with @simplewebauthn/browser. */
const PAGE = `<!doctype html><html><head><script src="/simplewebauthn.js"></script><script>
async function post(path, body, bearer) {
  const headers = { "content-type": "application/json" };
  if (bearer) headers.authorization = "Bearer " + bearer;
  const r = await fetch(path, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}
window.register = async (user, bearer) => {
  const options = await post("/x/pubkey/register/options", { user }, bearer);
  if (options.status !== 200) return options;
  const response = await SimpleWebAuthnBrowser.startRegistration({ optionsJSON: options.body });
  return post("/x/pubkey/register/verify", { response }, bearer);
};
window.sign = async (user) => {
  const options = await post("/x/pubkey/challenge", user ? { user } : {});
  return SimpleWebAuthnBrowser.startAuthentication({ optionsJSON: options.body });
};
window.authenticate = (response) => post("/x/pubkey/authenticate", { response });
window.exchange = (code) => post("/x/token", { grant_type: "authorization_code", code });
</script></head><body>passkeys</body></html>`;

interface Answer {
  status: number;
  body: { user: string; credentialId: string; code: string; error?: { code: string } };
}

/** What the page's script puts on `window`. */
interface PasskeyPage {
  register(user: string, bearer?: string): Promise<Answer>;
  sign(user?: string): Promise<unknown>;
  authenticate(response: unknown): Promise<Answer>;
  exchange(code: string): Promise<{ status: number; body: { access_token: string } }>;
}

describe("passkeys in headless Chromium with a CDP virtual authenticator", () => {
  const database = tempLoginStores();
  const store = new PasskeyCredentialStore({ records: database.records });
  const codes = new LoginCodeStore();
  let skewMs = 0;
  let tokens: TokenService;
  let server: { port: number; close(): Promise<void> };
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    tokens = await TokenService.open({
      databaseDir: database.dir,
      vault: database.vault.scoped(AUTH_VAULT_APP),
    });
    let app: Hono<{ Variables: AuthVariables }> | undefined;
    server = await listen({ fetch: (request: Request, env: unknown) => app!.fetch(request, env) });
    // WebAuthn needs a domain as RP id: the page is on http://localhost (a secure context).
    const origin = `http://localhost:${server.port}`;
    const passkeys = new PasskeyService({
      store,
      rpId: "localhost",
      rpName: "amp test",
      origins: [origin],
      allowNewUsers: true,
      isReservedUser: (user) => user === "root",
      challengeTtlMs: 60_000,
      now: () => Date.now() + skewMs,
    });
    app = new Hono<{ Variables: AuthVariables }>();
    app.get("/", (c) => c.html(PAGE));
    app.get("/simplewebauthn.js", (c) => c.body(browserBundle, 200, { "content-type": "text/javascript" }));
    app.use("/x/*", authMiddleware({ tokens }));
    app.route("/", authRoutes({ tokens, loginCodes: codes }));
    app.route(
      "/",
      loginRoutes({
        configs: new PluginConfigStore({ records: database.records, secrets: database.secrets }),
        codes,
        passkeys,
        publicUrl: origin,
        outbound: { allowedHosts: [] },
        logger: silentLogger,
      }),
    );

    browser = await launchChromium();
    const context = await browser.newContext();
    page = await context.newPage();
    await addVirtualAuthenticator(page);
    await page.goto(`${origin}/`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await tokens?.close();
    await database.close();
  });

  const register = (user: string, bearer?: string) =>
    page.evaluate(([u, b]) => (globalThis as unknown as PasskeyPage).register(u!, b), [user, bearer]);
  const sign = (user?: string) => page.evaluate((u) => (globalThis as unknown as PasskeyPage).sign(u), user);
  const authenticate = (response: unknown) =>
    page.evaluate((r) => (globalThis as unknown as PasskeyPage).authenticate(r), response);

  it("registers a passkey for a new user and persists the credential", async () => {
    const result = await register("dana");
    expect(result.status).toBe(200);
    expect(result.body.user).toBe("dana");
    const credentials = await store.credentialsOf("dana");
    expect(credentials.map((c) => c.id)).toEqual([result.body.credentialId]);
    expect(credentials[0]!.publicKey.byteLength).toBeGreaterThan(32);
  });

  it("refuses a new user name that is taken or reserved", async () => {
    const taken = await page.evaluate(() =>
      fetch("/x/pubkey/register/options", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ user: "dana" }),
      }).then(async (r) => ({ status: r.status, body: await r.json() })),
    );
    expect(taken).toMatchObject({ status: 409, body: { error: { code: "user_taken" } } });
    const reserved = await register("root");
    expect(reserved).toMatchObject({ status: 409, body: { error: { code: "user_taken" } } });
  });

  it("registers a passkey for the logged-in user", async () => {
    const result = await register("ignored-name", await tokens.issue("erin"));
    expect(result.status).toBe(200);
    expect(result.body.user).toBe("erin");
    expect(await store.credentialsOf("erin")).toHaveLength(1);
  });

  it("logs in with the passkey; the code becomes an amp token the middleware accepts", async () => {
    const assertion = await sign("dana");
    const result = await authenticate(assertion);
    expect(result.status).toBe(200);
    expect(result.body.user).toBe("dana");
    const exchanged = await page.evaluate(
      (code) => (globalThis as unknown as PasskeyPage).exchange(code),
      result.body.code,
    );
    expect(exchanged.status).toBe(200);
    const profile = await fetch(`http://127.0.0.1:${server.port}/x/profile`, {
      headers: { authorization: `Bearer ${exchanged.body.access_token}` },
    });
    expect(await profile.json()).toMatchObject({
      id: "dana",
      anonymous: false,
      claims: { amr: ["passkey"] },
    });
  });

  it("logs in with a discoverable passkey, no user name given", async () => {
    const result = await authenticate(await sign());
    expect(result.status).toBe(200);
    expect(["dana", "erin"]).toContain(result.body.user);
  });

  it("rejects a replayed assertion", async () => {
    const assertion = await sign("dana");
    expect((await authenticate(assertion)).status).toBe(200);
    const replay = await authenticate(assertion);
    expect(replay).toMatchObject({ status: 400, body: { error: { code: "challenge_invalid" } } });
  });

  it("rejects an assertion over a stale challenge", async () => {
    const assertion = await sign("dana");
    skewMs = 61_000;
    try {
      const stale = await authenticate(assertion);
      expect(stale).toMatchObject({ status: 400, body: { error: { code: "challenge_invalid" } } });
    } finally {
      skewMs = 0;
    }
  });

  it("rejects a signature counter that did not advance (a cloned authenticator)", async () => {
    const [credential] = await store.credentialsOf("dana");
    expect(await store.updateCounter(credential!.id, 1_000_000)).toBe(true);
    const result = await authenticate(await sign("dana"));
    expect(result).toMatchObject({ status: 400, body: { error: { code: "counter_replay" } } });
  });

  it("rejects malformed bodies with 400 bad_request", async () => {
    const result = await authenticate({ id: "x", rawId: "x", type: "public-key", response: {} });
    expect(result).toMatchObject({ status: 400, body: { error: { code: "bad_request" } } });
  });
});
