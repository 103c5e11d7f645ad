import { Writable } from "node:stream";
import { Hono } from "hono";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import {
  LOGIN_SECRETS_APP,
  LoginCodeStore,
  loginRoutes,
  PasskeyCredentialStore,
  PasskeyService,
  PluginConfigStore,
} from "../../src/login/index.js";
import type { AuthVariables } from "../../src/user.js";
import { errorCode } from "../json.js";
import { tempLoginStores, testUserMiddleware } from "./helpers.js";

const SECRET = "s3cr3t-value-that-must-never-leak";

describe("/x/authConfig: plugin configuration CRUD", () => {
  const database = tempLoginStores();
  const configs = new PluginConfigStore({ records: database.records, secrets: database.secrets });
  const storedSecretNames = async () =>
    (await database.vault.list(LOGIN_SECRETS_APP)).map((info) => info.name);
  const logLines: string[] = [];
  const logger = pino(
    { level: "debug" },
    new Writable({
      write(chunk, _encoding, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );
  const app = new Hono<{ Variables: AuthVariables }>();
  app.use("*", testUserMiddleware());
  app.route(
    "/",
    loginRoutes({
      configs,
      codes: new LoginCodeStore(),
      publicUrl: "https://amp.example",
      outbound: { allowedHosts: ["idp.example", "*.snowflakecomputing.com"] },
      logger,
    }),
  );

  afterAll(() => database.close());

  const oidc = (overrides: object = {}) => ({
    kind: "oidc",
    visibility: "confidential",
    issuer: "https://idp.example",
    clientId: "amp",
    clientSecret: SECRET,
    returnUrls: ["https://app.example/done"],
    ...overrides,
  });

  async function call(method: string, path: string, user?: string, body?: unknown) {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (user) headers["x-test-user"] = user;
    const response = await app.request(path, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, text, body: text ? JSON.parse(text) : undefined };
  }

  it("lets root create a confidential plugin; the secret is stored but never returned", async () => {
    const created = await call("PUT", "/x/authConfig/corp", "root", oidc());
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: "corp", kind: "oidc", owner: "root", hasSecret: true });
    expect(created.text).not.toContain(SECRET);
    expect(await storedSecretNames()).toEqual(["auth.login.corp.secret"]);
    expect(await database.secrets.get("auth.login.corp.secret")).toBe(SECRET);
    expect(configs.isActive("corp")).toBe(true);

    const read = await call("GET", "/x/authConfig/corp", "root");
    expect(read.status).toBe(200);
    expect(read.text).not.toContain(SECRET);
  });

  it("keeps the stored secret when a replacement omits it, and replaces it when given", async () => {
    const { clientSecret: _omitted, ...withoutSecret } = oidc({ displayName: "Corp SSO" });
    const replaced = await call("PUT", "/x/authConfig/corp", "root", withoutSecret);
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ displayName: "Corp SSO", hasSecret: true });
    expect(await configs.secret(configs.get("corp")!)).toBe(SECRET);

    await call("PUT", "/x/authConfig/corp", "root", oidc({ clientSecret: `${SECRET}-2` }));
    expect(await configs.secret(configs.get("corp")!)).toBe(`${SECRET}-2`);
  });

  it("answers 401 to anonymous callers and 403 to users creating confidential plugins", async () => {
    expect((await call("GET", "/x/authConfig")).status).toBe(401);
    const anonymous = await call("PUT", "/x/authConfig/mine", undefined, oidc());
    expect(anonymous.status).toBe(401);
    const user = await call("PUT", "/x/authConfig/mine", "ursula", oidc());
    expect(user).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect(configs.isActive("mine")).toBe(false);
  });

  it("lets users own public plugins and hides them from other users", async () => {
    const { clientSecret: _none, ...publicOidc } = oidc({ visibility: "public" });
    const created = await call("PUT", "/x/authConfig/ursula-idp", "ursula", publicOidc);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ owner: "ursula", visibility: "public", hasSecret: false });

    expect(
      (await call("GET", "/x/authConfig", "ursula")).body.configs.map((c: { id: string }) => c.id),
    ).toEqual(["ursula-idp"]);
    expect((await call("GET", "/x/authConfig", "root")).body.configs).toHaveLength(2);
    expect((await call("GET", "/x/authConfig/ursula-idp", "victor")).status).toBe(404);
    expect((await call("PUT", "/x/authConfig/ursula-idp", "victor", publicOidc)).status).toBe(404);
    expect((await call("DELETE", "/x/authConfig/ursula-idp", "victor")).status).toBe(404);
    expect((await call("GET", "/x/authConfig/corp", "ursula")).status).toBe(404);

    // An owner may not promote their plugin to confidential.
    const promote = await call("PUT", "/x/authConfig/ursula-idp", "ursula", oidc());
    expect(promote.status).toBe(403);
  });

  it("validates configurations with clear 400s", async () => {
    const cases: [string, unknown, string][] = [
      ["/x/authConfig/Bad_Id", oidc(), "bad_request"],
      ["/x/authConfig/keys", oidc(), "bad_request"], // would be shadowed by root's GET /x/auth/keys
      ["/x/authConfig/x1", { ...oidc(), kind: "saml" }, "bad_request"],
      ["/x/authConfig/x1", oidc({ returnUrls: [] }), "bad_request"],
      ["/x/authConfig/x1", oidc({ issuer: "ftp://idp.example" }), "bad_request"],
      ["/x/authConfig/x1", oidc({ visibility: "public" }), "bad_request"], // public with a secret
      ["/x/authConfig/x1", oidc({ clientSecret: undefined }), "secret_required"],
      ["/x/authConfig/x1", oidc({ issuer: "https://evil.example" }), "host_not_allowed"],
      ["/x/authConfig/x1", oidc({ issuer: "http://idp.example" }), "host_not_allowed"],
      ["/x/authConfig/x1", "{not json", "bad_request"],
      [
        "/x/authConfig/x1",
        {
          kind: "apple",
          visibility: "public",
          clientId: "a",
          teamId: "TEAM123456",
          keyId: "KEY1234567",
          returnUrls: ["https://a.example/"],
        },
        "bad_request",
      ],
    ];
    for (const [path, body, code] of cases) {
      const result = await call("PUT", path, "root", body);
      expect(result.status, `${JSON.stringify(body)} → ${result.text}`).toBe(400);
      expect(result.body.error.code).toBe(code);
      expect(result.text, "no stack in the answer").not.toMatch(/\.(ts|js):\d+/);
    }
    expect(configs.isActive("x1")).toBe(false);
  });

  it("refuses bodies over the size limit with 413", async () => {
    const huge = await call("PUT", "/x/authConfig/x2", "root", oidc({ displayName: "x".repeat(100_000) }));
    expect(huge).toMatchObject({ status: 413, body: { error: { code: "too_large" } } });
  });

  it("deleting a configuration makes it inactive, drops its secret and stops its logins", async () => {
    expect((await call("DELETE", "/x/authConfig/corp", "root")).status).toBe(204);
    expect(configs.isActive("corp")).toBe(false);
    expect(await storedSecretNames()).toEqual([]);
    expect((await call("GET", "/x/authConfig/corp", "root")).status).toBe(404);
    const start = await app.request("/x/auth/corp");
    expect(start.status).toBe(404);
    expect(await errorCode(start)).toBe("plugin_not_found");
  });

  it("never writes a secret to the log", () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join("\n")).not.toContain(SECRET);
  });
});

describe("login rate limit", () => {
  const database = tempLoginStores();
  afterAll(() => database.close());
  let now = 1_000_000;
  const app = loginRoutes({
    configs: new PluginConfigStore({ records: database.records, secrets: database.secrets }),
    codes: new LoginCodeStore(),
    publicUrl: "https://amp.example",
    outbound: { allowedHosts: [] },
    logger: pino({ level: "silent" }),
    rateLimit: { limit: 3, windowSeconds: 60 },
    now: () => now,
  });

  it("answers 429 with Retry-After past the limit, across login endpoints, until the window ends", async () => {
    expect((await app.request("/x/auth/none")).status).toBe(404);
    expect((await app.request("/x/auth/none/callback?state=x")).status).toBe(400);
    expect((await app.request("/x/auth/none")).status).toBe(404);
    const limited = await app.request("/x/auth/none");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("60");
    expect(await errorCode(limited)).toBe("rate_limited");

    now += 60_000;
    expect((await app.request("/x/auth/none")).status).toBe(404);
  });
});

describe("OpenAPI description", () => {
  const database = tempLoginStores();
  afterAll(() => database.close());

  it("describes every login route from the same zod schemas that validate it", () => {
    const app = loginRoutes({
      configs: new PluginConfigStore({ records: database.records, secrets: database.secrets }),
      codes: new LoginCodeStore(),
      passkeys: new PasskeyService({
        store: new PasskeyCredentialStore({ records: database.records }),
        rpId: "amp.example",
        rpName: "amp",
        origins: ["https://amp.example"],
      }),
      publicUrl: "https://amp.example",
      outbound: { allowedHosts: [] },
      logger: pino({ level: "silent" }),
    });
    const document = app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: { title: "amp login", version: "1" },
    });
    expect(Object.keys(document.paths ?? {}).sort()).toEqual([
      "/x/auth/{handler}",
      "/x/auth/{handler}/callback",
      "/x/authConfig",
      "/x/authConfig/{id}",
      "/x/pubkey/authenticate",
      "/x/pubkey/challenge",
      "/x/pubkey/register/options",
      "/x/pubkey/register/verify",
    ]);
    const put = document.paths?.["/x/authConfig/{id}"]?.put;
    expect(JSON.stringify(put?.requestBody)).toContain("PluginConfigInput");
  });
});
