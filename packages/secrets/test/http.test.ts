import { Hono } from "hono";
import { afterAll, describe, expect, it } from "vitest";
import { secretsRoutes } from "../src/http.js";
import { Secrets } from "../src/index.js";
import { tempDir } from "./helpers.js";
import { errorCode } from "./json.js";

interface User {
  id: string;
}

describe("secretsRoutes", () => {
  const dir = tempDir();
  const secrets = new Secrets({ databaseDir: dir.dir });
  afterAll(async () => {
    await secrets.close();
    dir.cleanup();
  });

  // The builder of app "shop" is "alice"; the middleware stand-in reads the user from a header.
  const server = new Hono<{ Variables: { user?: User } }>();
  server.use("*", async (c, next) => {
    const id = c.req.header("x-user");
    if (id) c.set("user", { id });
    await next();
  });
  server.route(
    "/",
    secretsRoutes<User>({
      secrets,
      authorize: (user, app, role) => role === "build" && app === "shop" && user?.id === "alice",
    }),
  );
  const call = (method: string, path: string, user?: string, body?: unknown) =>
    server.request(path, {
      method,
      headers: { ...(user ? { "x-user": user } : {}), "content-type": "application/json" },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });

  it("lets the builder set, list and delete, and never returns a value", async () => {
    expect((await call("PUT", "/x/secrets/shop/STRIPE_KEY", "alice", { value: "sk_live_1" })).status).toBe(
      200,
    );
    const b64 = Buffer.from([0, 1, 2, 255]).toString("base64");
    expect(
      (await call("PUT", "/x/secrets/shop/BIN", "alice", { value: b64, encoding: "base64" })).status,
    ).toBe(200);
    const list = await call("GET", "/x/secrets/shop", "alice");
    const text = await list.text();
    expect(list.status).toBe(200);
    expect(JSON.parse(text).secrets.map((s: { name: string }) => s.name)).toEqual(["BIN", "STRIPE_KEY"]);
    expect(text).not.toContain("sk_live_1");
    expect([...(await secrets.reveal("shop", "BIN"))!]).toEqual([0, 1, 2, 255]);
    expect((await call("DELETE", "/x/secrets/shop/STRIPE_KEY", "alice")).status).toBe(204);
    const missing = await call("DELETE", "/x/secrets/shop/STRIPE_KEY", "alice");
    expect(missing.status).toBe(404);
    expect(await errorCode(missing)).toBe("secret_not_found");
    expect(await call("GET", "/x/secrets/shop/BIN", "alice")).toHaveProperty("status", 404);
  });

  it("denies without a user (401) or without the build role (403), changing nothing", async () => {
    const anon = await call("PUT", "/x/secrets/shop/X", undefined, { value: "v" });
    expect(anon.status).toBe(401);
    expect(await anon.json()).toEqual({
      error: { code: "unauthenticated", message: "authentication required" },
    });
    expect((await call("PUT", "/x/secrets/shop/X", "mallory", { value: "v" })).status).toBe(403);
    expect((await call("GET", "/x/secrets/shop", "mallory")).status).toBe(403);
    expect((await call("DELETE", "/x/secrets/blog/X", "alice")).status).toBe(403);
    expect(await secrets.has("shop", "X")).toBe(false);
  });

  it("validates names, bodies and sizes with typed 400/413 answers", async () => {
    const badName = await call("PUT", "/x/secrets/shop/bad%20name", "alice", { value: "v" });
    expect(badName.status).toBe(400);
    expect(await errorCode(badName)).toBe("bad_request");
    expect((await call("PUT", "/x/secrets/$amp/X", "alice", { value: "v" })).status).toBe(400);
    expect((await call("PUT", "/x/secrets/shop/X", "alice", "{not json")).status).toBe(400);
    expect((await call("PUT", "/x/secrets/shop/X", "alice", { value: 5 })).status).toBe(400);
    const notBase64 = await call("PUT", "/x/secrets/shop/X", "alice", { value: "%%%", encoding: "base64" });
    expect(notBase64.status).toBe(400);
    const big = await call("PUT", "/x/secrets/shop/X", "alice", { value: "x".repeat(200 * 1024) });
    expect(big.status).toBe(413);
    const justOver = await call("PUT", "/x/secrets/shop/X", "alice", { value: "x".repeat(64 * 1024 + 1) });
    expect(justOver.status).toBe(413);
    expect(await errorCode(justOver)).toBe("secret_too_large");
    expect(await secrets.has("shop", "X")).toBe(false);
  });
});

describe("secretsRoutes OpenAPI description", () => {
  it("lists the three routes and never a value in a response schema", () => {
    const dir = tempDir();
    const secrets = new Secrets({ databaseDir: dir.dir });
    try {
      const doc = secretsRoutes({ secrets, authorize: () => true }).getOpenAPIDocument({
        openapi: "3.0.0",
        info: { title: "secrets", version: "1" },
      });
      expect(Object.keys(doc.paths ?? {}).sort()).toEqual(["/x/secrets/{app}", "/x/secrets/{app}/{name}"]);
      const info = doc.components?.schemas?.SecretInfo;
      const properties = info && "properties" in info ? info.properties : undefined;
      expect(Object.keys(properties ?? {})).not.toContain("value");
    } finally {
      void secrets.close().then(dir.cleanup);
    }
  });
});
