import type { IncomingHttpHeaders } from "node:http";
import { type LoopbackServer, startLoopbackServer } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, serve } from "../src/index.js";
import { type ComposedAmp, startComposed } from "./helpers/composed.js";
import { errorCode, type OpenApiDocument } from "./helpers/json.js";

describe("--proxy-remotes / RMX_PROXY_REMOTES", () => {
  it("reads name=url pairs", () => {
    const cl = loadConfig(
      ["--proxy-remotes", "api=https://api.example.com/v1, files=http://10.0.0.5:8080"],
      {},
    );
    expect(!cl.help && cl.config.proxyRemotes).toEqual({
      api: "https://api.example.com/v1",
      files: "http://10.0.0.5:8080",
    });
    const none = loadConfig([], {});
    expect(!none.help && none.config.proxyRemotes).toEqual({});
  });

  it.each([
    ["api"],
    ["=https://x.example.com"],
    ["api=ftp://x.example.com"],
    ["api=not a url"],
    ["api=https://x.example.com?key=1"],
    ["api=https://user:pw@x.example.com"],
    ["a/b=https://x.example.com"],
    ["api=https://a.example.com,api=https://b.example.com"],
  ])("refuses %s, naming the setting", (value) => {
    expect(() => loadConfig(["--proxy-remotes", value], {})).toThrow(/^--proxy-remotes: invalid value/);
    expect(() => loadConfig([], { RMX_PROXY_REMOTES: value })).toThrow(/^RMX_PROXY_REMOTES: /);
  });
});

describe("the composed server: proxy, records, link, webhooks in OpenAPI and --help", () => {
  let remote: LoopbackServer;
  let seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  let amp: ComposedAmp;
  let root: string;
  let alice: string;

  beforeAll(async () => {
    remote = await startLoopbackServer((req, res) => {
      seen.push({ url: req.url ?? "", headers: req.headers });
      res.writeHead(200, { "content-type": "application/json", "set-cookie": "no=1" });
      res.end(JSON.stringify({ from: "remote", url: req.url }));
    });
    const base = remote.url("/base");
    amp = await startComposed({ proxyRemotes: `api=${base}` });
    root = await amp.token("root");
    alice = await amp.token("alice");
    const res = await fetch(amp.url("/x/apps"), {
      method: "POST",
      headers: { authorization: `Bearer ${root}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "shop" }),
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await amp.close();
    await remote.close();
  });

  it("/{app}/proxy/{remote}/{path} reaches the configured remote (loopback allowed because the operator named it)", async () => {
    seen = [];
    const res = await fetch(amp.url(`/shop/proxy/api/items/7?sort=asc&token=${root}`), {
      headers: { authorization: `Bearer ${root}`, accept: "application/json", "x-secret": "no" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ from: "remote", url: "/base/items/7?sort=asc" });
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(seen[0]!.headers.authorization).toBeUndefined();
    expect(seen[0]!.headers["x-secret"]).toBeUndefined();
  });

  it("an unknown remote or app is 404, a path leaving the remote is refused, a user without run sees no app", async () => {
    const get = (path: string, token = root) =>
      fetch(amp.url(path), { headers: { authorization: `Bearer ${token}` } });
    expect((await get("/shop/proxy/nope/x")).status).toBe(404);
    expect((await get("/ghost/proxy/api/x")).status).toBe(404);
    expect((await get("/shop/proxy/api/x", alice)).status).toBe(404);
    seen = [];
    for (const path of [
      "/shop/proxy/api/..%2F..%2Fetc",
      "/shop/proxy/api/%2e%2e/x",
      "/shop/proxy/api/a%5c..%5cb",
    ]) {
      const leaving = await get(path);
      // 403 Track-outboundDenied here; fetch itself resolves %2e%2e, which then matches no route (404).
      expect([403, 404]).toContain(leaving.status);
    }
    expect(seen).toEqual([]);
    const encoded = await get("/shop/proxy/api/..%2F..%2Fetc");
    expect(await errorCode(encoded)).toBe("Track-outboundDenied");
  });

  it("records and link answer on the composed server", async () => {
    const auth = { authorization: `Bearer ${root}`, "content-type": "application/json" };
    const put = await fetch(amp.url("/shop/records"), {
      method: "PUT",
      headers: auth,
      body: JSON.stringify([{ _rmx_id: "p1", _rmx_type: "product", name: "tea" }]),
    });
    expect(put.status).toBe(200);
    const get = await fetch(amp.url("/shop/records"), { headers: auth });
    expect(((await get.json()) as { records: { name: string }[] }).records.map((r) => r.name)).toEqual([
      "tea",
    ]);
    await fetch(amp.url("/x/apps"), {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ name: "cart" }),
    });
    const link = await fetch(amp.url("/cart/link"), {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ from: "shop", id: "p1" }),
    });
    expect(link.status).toBe(201);
  });

  it("webhooks: registered by a builder; an unknown id is 404", async () => {
    const auth = { authorization: `Bearer ${root}`, "content-type": "application/json" };
    const created = await fetch(amp.url("/x/apps/shop/webhooks"), {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ module: "orders" }),
    });
    expect(created.status).toBe(201);
    const unknown = await fetch(amp.url("/shop/webhooks/unknown-id"), {
      method: "POST",
      headers: auth,
      body: "{}",
    });
    expect(unknown.status).toBe(404);
    expect(await errorCode(unknown)).toBe("Track-noWebhook");
  });

  it("/x/openapi.json describes the new routes and the multipart import", async () => {
    const doc = (await (await fetch(amp.url("/x/openapi.json"))).json()) as OpenApiDocument & {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>;
    };
    for (const path of [
      "/{app}/records",
      "/{app}/link",
      "/x/apps/{app}/webhooks",
      "/x/apps/{app}/webhooks/{id}",
      "/{app}/webhooks/{id}",
      "/{app}/proxy/{remote}/{path}",
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(Object.keys(doc.paths["/x/apps/import"]!.post!.requestBody!.content)).toEqual(
      expect.arrayContaining(["application/zip", "multipart/form-data"]),
    );
  });

  it("amp --help lists the new flags and variables", async () => {
    let out = "";
    await serve({ argv: ["--help"], env: {}, stdout: (t) => (out += t), stderr: () => {}, exit: () => {} });
    for (const word of [
      "--cors-origins <origins>",
      "RMX_CORS_ORIGINS",
      "--central-issuer <url>",
      "RMX_CENTRAL_ISSUER",
      "--central-jwks <url>",
      "RMX_CENTRAL_AUDIENCE",
      "--kms-key <key>",
      "RMX_KMS_KEY",
      "--kms-credentials <file>",
      "RMX_KMS_ENDPOINT",
      "--proxy-remotes <name=url,…>",
      "RMX_PROXY_REMOTES",
    ]) {
      expect(out).toContain(word);
    }
  });
});
