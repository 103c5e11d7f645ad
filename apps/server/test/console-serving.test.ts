import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleRoutes } from "../src/http/console.js";

describe("the console under /_/ (a built console in a temp folder)", () => {
  const folder = tempDir("amp-console-dist-");
  let app: ReturnType<typeof consoleRoutes>;
  beforeAll(() => {
    const dist = join(folder.path, "dist");
    mkdirSync(join(dist, "assets"), { recursive: true });
    writeFileSync(join(dist, "index.html"), "<!doctype html><title>console</title>");
    writeFileSync(join(dist, "assets", "index-abc123.js"), "console.log(1)");
    writeFileSync(join(folder.path, "secret.txt"), "outside");
    app = consoleRoutes(dist);
  });
  afterAll(() => folder.remove());

  it("GET / sends a browser to /_/; a client asking for JSON is left to the welcome route", async () => {
    const page = await app.request("/", { headers: { accept: "text/html,*/*" } });
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe("/_/");
    expect((await app.request("/", { headers: { accept: "application/json" } })).status).toBe(404);
    expect((await app.request("/_")).headers.get("location")).toBe("/_/");
  });

  it("serves hashed assets immutable, and index.html (not cached) for the console's own routes", async () => {
    const asset = await app.request("/_/assets/index-abc123.js");
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toContain("text/javascript");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    for (const path of ["/_/", "/_/apps/tim-wasm/data", "/_/sessions?x=1"]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(200);
      expect(await res.text()).toContain("<title>console</title>");
      expect(res.headers.get("cache-control")).toBe("no-cache");
      expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
    }
  });

  it("bad input: a missing asset is 404; paths leaving the folder or badly encoded are refused", async () => {
    expect((await app.request("/_/assets/nope.js")).status).toBe(404);
    for (const path of [
      "/_/..%2fsecret.txt",
      "/_/%2e%2e/secret.txt",
      "/_/assets/..%5c..%5csecret.txt",
      "/_/a%00b",
    ]) {
      const res = await app.request(path);
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain("outside");
    }
    expect((await app.request("/_/%E0%A4%A")).status).toBe(400);
  });

  it("without a build there are no console routes (the server works as before)", async () => {
    const empty = tempDir("amp-console-none-");
    try {
      const none = consoleRoutes(empty.path);
      expect((await none.request("/", { headers: { accept: "text/html" } })).status).toBe(404);
      expect((await none.request("/_/")).status).toBe(404);
    } finally {
      empty.remove();
    }
  });
});
