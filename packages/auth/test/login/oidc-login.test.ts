import { launchChromium } from "@amp/test-support";
import { startOidcProvider, type TestOidcProvider } from "@amp/test-support/oidc-provider";
import { Hono } from "hono";
import * as client from "openid-client";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authRoutes } from "../../src/http.js";
import { AUTH_VAULT_APP, authMiddleware, type TokenResponse, TokenService } from "../../src/index.js";
import {
  LoginCodeStore,
  loginRoutes,
  MemorySingleUseStore,
  type PendingLogin,
  PluginConfigStore,
} from "../../src/login/index.js";
import type { AuthVariables } from "../../src/user.js";
import { errorCode, jsonBody } from "../json.js";
import { listen, silentLogger, tempLoginStores } from "./helpers.js";

/** A pending-login store whose entries a test may alter between start and callback. */
class TamperablePendingLogins extends MemorySingleUseStore<PendingLogin> {
  tamper: ((pending: PendingLogin) => PendingLogin) | undefined;
  override async take(key: string) {
    const pending = await super.take(key);
    return pending && this.tamper ? this.tamper(pending) : pending;
  }
}

const CLIENT_SECRET = "a-client-secret-of-the-test-provider";

describe("OIDC login against a real oidc-provider, driven by headless Chromium", () => {
  const stores = tempLoginStores();
  const configs = new PluginConfigStore({ records: stores.records, secrets: stores.secrets });
  const codes = new LoginCodeStore();
  const pendingLogins = new TamperablePendingLogins({ ttlMs: 600_000 });
  let tokens: TokenService;
  let rootToken: string;
  /** Alice's amp token from the first login, checked again after her plugin is deleted. */
  let aliceToken: string;
  let amp: { port: number; close(): Promise<void> };
  let ampUrl: string;
  let idp: TestOidcProvider;
  let issuer: string;
  let browser: Browser;
  /** While set, callbacks stop here (the attacker's browser keeps the URL instead of loading it). */
  let holdCallback: ((url: string) => void) | undefined;

  beforeAll(async () => {
    // The real token core: tokens from a plugin login die with the plugin's configuration.
    tokens = await TokenService.open({
      databaseDir: stores.dir,
      vault: stores.vault.scoped(AUTH_VAULT_APP),
      rootUser: "root",
      pluginActive: (id) => configs.isActive(id),
    });
    rootToken = await tokens.issue("root");

    // Our server listens first: the provider must know our callback URL.
    let app: Hono<{ Variables: AuthVariables }> | undefined;
    amp = await listen({ fetch: (request: Request, env: unknown) => app!.fetch(request, env) });
    ampUrl = `http://127.0.0.1:${amp.port}`;
    app = new Hono<{ Variables: AuthVariables }>();
    app.get("/done", (c) => c.text("logged in"));
    // The attacker's browser in the login-CSRF test: it keeps the provider's redirect instead of following it.
    app.use("/x/auth/oidc/callback", async (c, next) => {
      if (!holdCallback) return next();
      holdCallback(c.req.url);
      return c.text("kept by the attacker");
    });
    app.use("/x/*", authMiddleware({ tokens }));
    app.route("/", authRoutes({ tokens, loginCodes: codes }));
    app.route(
      "/",
      loginRoutes({
        configs,
        codes,
        pendingLogins,
        publicUrl: ampUrl,
        outbound: { allowedHosts: ["127.0.0.1"], allowInsecureHttp: true },
        logger: silentLogger,
      }),
    );

    idp = await startOidcProvider(
      {
        clientId: "amp",
        clientSecret: CLIENT_SECRET,
        redirectUris: [`${ampUrl}/x/auth/oidc/callback`, `${ampUrl}/x/auth/oauth/callback`],
      },
      { tls: false },
    );
    issuer = idp.issuer;

    const created = await fetch(`${ampUrl}/x/authConfig/oidc`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${rootToken}` },
      body: JSON.stringify({
        kind: "oidc",
        visibility: "confidential",
        issuer,
        clientId: "amp",
        clientSecret: CLIENT_SECRET,
        scopes: ["openid", "email"],
        returnUrls: [`${ampUrl}/done`],
      }),
    });
    expect(created.status).toBe(201);
    // The same provider, configured as a plain OAuth2 server with explicit endpoints.
    const oauth2 = await fetch(`${ampUrl}/x/authConfig/oauth`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${rootToken}` },
      body: JSON.stringify({
        kind: "oauth2",
        visibility: "confidential",
        authorizationEndpoint: `${issuer}/auth`,
        tokenEndpoint: `${issuer}/token`,
        userinfoEndpoint: `${issuer}/me`,
        clientId: "amp",
        clientSecret: CLIENT_SECRET,
        scopes: ["openid", "email"],
        returnUrls: [`${ampUrl}/done`],
        userPrefix: "oauth:",
      }),
    });
    expect(oauth2.status).toBe(201);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await amp?.close();
    await idp?.close();
    await tokens?.close();
    await stores.close();
  });

  /** Runs the browser through our start route and the provider's login and consent forms. */
  async function browserLogin(
    login: string,
    handler = "oidc",
  ): Promise<{ page: Page; callbackUrl: string | undefined; callbackStatus: number | undefined }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    let callbackUrl: string | undefined;
    let callbackStatus: number | undefined;
    page.on("response", (response) => {
      if (!response.url().startsWith(`${ampUrl}/x/auth/${handler}/callback`)) return;
      callbackUrl = response.url();
      callbackStatus = response.status();
    });
    await page.goto(startUrl(handler));
    await passProvider(page, login);
    await page.waitForLoadState();
    return { page, callbackUrl, callbackStatus };
  }

  const startUrl = (handler = "oidc") =>
    `${ampUrl}/x/auth/${handler}?return_to=${encodeURIComponent(`${ampUrl}/done`)}`;

  /** Fills the provider's login form (and its consent prompt when shown) until it sends the browser back to amp. */
  async function passProvider(page: Page, login: string): Promise<void> {
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', "any password");
    await page.click('button[type="submit"]');
    await page.waitForURL((url) => url.href.startsWith(ampUrl) || url.pathname.startsWith("/interaction/"));
    if (!page.url().startsWith(ampUrl)) {
      await page.click('button[type="submit"]'); // the consent prompt
      await page.waitForURL((url) => url.href.startsWith(ampUrl));
    }
  }

  /** The login cookies a browser context holds for amp. */
  async function loginCookiesIn(context: BrowserContext) {
    return (await context.cookies(`${ampUrl}/x/auth/oidc/callback`)).filter((c) =>
      c.name.startsWith("amp_login_"),
    );
  }

  it("logs in through /x/auth/oidc and the callback; the code becomes an amp token the middleware accepts", async () => {
    const { page, callbackUrl } = await browserLogin("alice");
    const landed = new URL(page.url());
    expect(landed.pathname).toBe("/done");
    expect(await page.textContent("body")).toContain("logged in");
    const code = landed.searchParams.get("code");
    expect(code).toBeTruthy();

    // The code exchanges once at the core's /x/token for an amp token its middleware accepts.
    const exchange = () =>
      fetch(`${ampUrl}/x/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ grant_type: "authorization_code", code }),
      });
    const issued = await exchange();
    expect(issued.status).toBe(200);
    aliceToken = (await jsonBody<TokenResponse>(issued)).access_token;
    const profile = await fetch(`${ampUrl}/x/profile`, {
      headers: { authorization: `Bearer ${aliceToken}` },
    });
    expect(profile.status).toBe(200);
    expect(await profile.json()).toMatchObject({
      id: "alice",
      anonymous: false,
      root: false,
      claims: { email: "alice@example.test", email_verified: true, idp_sub: "alice" },
    });
    const again = await exchange();
    expect(again.status, "a code redeems once").toBe(400);
    expect(await loginCookiesIn(page.context()), "the callback cleared the login cookie").toEqual([]);

    // The provider's redirect back, replayed: its state was spent.
    expect(callbackUrl).toContain("state=");
    const replay = await fetch(callbackUrl!, { redirect: "manual" });
    expect(replay.status).toBe(400);
    expect(await errorCode(replay)).toBe("state_mismatch");
    await page.context().close();
  });

  it("logs in through a generic OAuth2 plugin (authorize, token and userinfo endpoints configured)", async () => {
    const { page } = await browserLogin("dave", "oauth");
    const landed = new URL(page.url());
    expect(landed.pathname).toBe("/done");
    const identity = await codes.redeem(landed.searchParams.get("code")!);
    expect(identity).toMatchObject({
      user: "oauth:dave",
      plugin: "oauth",
      claims: { email: "dave@example.test" },
    });
    await page.context().close();
  });

  it("sends state, nonce and an S256 PKCE challenge to the provider", async () => {
    const start = await fetch(`${ampUrl}/x/auth/oidc`, { redirect: "manual" });
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.get("location")!);
    expect(authorize.origin).toBe(issuer);
    expect(authorize.searchParams.get("client_id")).toBe("amp");
    expect(authorize.searchParams.get("redirect_uri")).toBe(`${ampUrl}/x/auth/oidc/callback`);
    expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorize.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get("nonce")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get("scope")).toBe("openid email");
  });

  it("sets the login cookie in the browser HttpOnly, Path=/x/auth, SameSite=Lax (not Secure: the public URL is http)", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(startUrl());
    expect(new URL(page.url()).origin).toBe(issuer);
    const cookies = await loginCookiesIn(context);
    expect(cookies).toEqual([
      expect.objectContaining({
        path: "/x/auth",
        httpOnly: true,
        secure: false,
        sameSite: "Lax",
        value: expect.stringMatching(/^[\w-]{43}$/),
      }),
    ]);
    // It lasts as long as a login may (10 min), not the browser session.
    expect(cookies[0]!.expires * 1000 - Date.now()).toBeGreaterThan(590_000);
    expect(cookies[0]!.expires * 1000 - Date.now()).toBeLessThanOrEqual(600_000);
    await context.close();
  });

  it("login CSRF: the attacker's callback opened in a victim's browser is refused with 400 browser_mismatch and issues no code", async () => {
    /** The attacker logs in as mallory and keeps the provider's redirect back to amp: its URL. */
    const attackersCallback = async (): Promise<string> => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(startUrl());
      let kept = "";
      holdCallback = (url) => {
        kept = url;
      };
      try {
        await passProvider(page, "mallory");
      } finally {
        holdCallback = undefined;
        await context.close();
      }
      expect(kept).toContain("code=");
      return kept;
    };
    const victims: Record<string, (page: Page) => Promise<unknown>> = {
      "no login cookie": async () => {},
      "a login of its own": (page) => page.goto(startUrl()), // holds its own login's cookie
    };
    for (const [victim, prepare] of Object.entries(victims)) {
      const forged = await attackersCallback();
      const context = await browser.newContext();
      const page = await context.newPage();
      await prepare(page);
      const answer = await page.goto(forged);
      expect(answer?.status(), victim).toBe(400);
      expect(page.url(), "no redirect to the return URL").toBe(forged);
      expect(JSON.parse((await page.textContent("body")) ?? "{}").error.code).toBe("browser_mismatch");
      await context.close();
    }
  });

  it("rejects a PKCE verifier that does not match the challenge with 400 (the real provider refuses the code)", async () => {
    pendingLogins.tamper = (pending) => ({ ...pending, codeVerifier: client.randomPKCECodeVerifier() });
    try {
      const { page, callbackStatus } = await browserLogin("bob");
      expect(page.url()).toContain("/x/auth/oidc/callback");
      expect(callbackStatus).toBe(400);
      const body = JSON.parse((await page.textContent("body")) ?? "{}");
      expect(body.error.code).toBe("code_exchange_failed");
      await page.context().close();
    } finally {
      pendingLogins.tamper = undefined;
    }
  });

  it("rejects an ID token whose nonce does not match with 400", async () => {
    pendingLogins.tamper = (pending) => ({ ...pending, nonce: client.randomNonce() });
    try {
      const { page, callbackStatus } = await browserLogin("carol");
      expect(callbackStatus).toBe(400);
      const body = JSON.parse((await page.textContent("body")) ?? "{}");
      expect(body.error.code).toBe("nonce_mismatch");
      await page.context().close();
    } finally {
      pendingLogins.tamper = undefined;
    }
  });

  it("rejects an unknown state with 400 and refuses return URLs the plugin does not list", async () => {
    const bogus = await fetch(`${ampUrl}/x/auth/oidc/callback?state=forged&code=whatever`);
    expect(bogus.status).toBe(400);
    expect(await errorCode(bogus)).toBe("state_mismatch");

    const missing = await fetch(`${ampUrl}/x/auth/oidc/callback?code=whatever`);
    expect(missing.status).toBe(400);

    const evil = await fetch(
      `${ampUrl}/x/auth/oidc?return_to=${encodeURIComponent("https://evil.example/steal")}`,
      {
        redirect: "manual",
      },
    );
    expect(evil.status).toBe(400);
    expect(await errorCode(evil)).toBe("return_url_not_allowed");
  });

  it("rejects the tokens of a plugin login once its configuration is deleted", async () => {
    const before = await fetch(`${ampUrl}/x/profile`, { headers: { authorization: `Bearer ${aliceToken}` } });
    expect(before.status).toBe(200);
    const deleted = await fetch(`${ampUrl}/x/authConfig/oidc`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${rootToken}` },
    });
    expect(deleted.status).toBe(204);
    expect(configs.isActive("oidc")).toBe(false);
    const after = await fetch(`${ampUrl}/x/profile`, { headers: { authorization: `Bearer ${aliceToken}` } });
    expect(after.status).toBe(401);
    expect(await errorCode(after)).toBe("token_plugin_deleted");
  });
});
