import { beforeAll, describe, expect, it } from "vitest";
import { AnswerCache } from "../src/http/query-routes.js";
import { appsRoutes } from "../src/http.js";
import { ENGINES, useEngine } from "./engines.js";
import { root } from "./helpers.js";
import { serveApps, type TestServer } from "./http-helpers.js";

describe.each(ENGINES)("apps HTTP API (real %s)", (engineName) => {
  const engine = useEngine(engineName);
  let s: TestServer;
  beforeAll(async () => {
    s = serveApps(await engine.apps(), { limits: { maxFileBytes: 64 * 1024 } }, async () => {}); // the engine closes the registry
    await s.apps.setRules(root, "*", { allowed_create: ["alice"] });
  });

  it("creates an app, writes, reads, queries with ETag/304", async () => {
    const created = await s.request("alice", "POST", "/x/apps", { name: "notes", indexedFields: ["n"] });
    expect(created.status).toBe(201);
    const ins = await s.request("alice", "POST", "/notes", [
      { _rmx_type: "note", n: 1, text: "a" },
      { _rmx_type: "note", n: 2, text: "b", link: { _rmx_type: "{tag}ref", _rmx_value: "xyz" } },
    ]);
    expect(ins.status).toBe(201);
    const { seq, documents } = (await ins.json()) as { seq: number; documents: Record<string, unknown>[] };
    expect(seq).toBe(1);
    expect(documents[1]!.link).toEqual({ _rmx_type: "{tag}case:db.ref", _rmx_value: "xyz" });
    const id = documents[0]!._rmx_id as string;

    const one = await s.request("alice", "GET", `/notes/documents/${id}.json`);
    expect(one.status).toBe(200);
    expect(((await one.json()) as { text: string }).text).toBe("a");

    const q = encodeURIComponent('_rmx_type == "note" && n >= 2 | { text }');
    const r1 = await s.request("alice", "GET", `/notes/query.json?query=${q}`);
    expect(r1.status).toBe(200);
    expect(await r1.json()).toEqual([{ text: "b" }]);
    const etag = r1.headers.get("etag")!;
    const r2 = await s.request("alice", "GET", `/notes/query.json?query=${q}`, undefined, {
      "if-none-match": etag,
    });
    expect(r2.status).toBe(304);

    const saved = await s.request("alice", "POST", "/notes/save", {
      document: { _rmx_id: id, _rmx_type: "note", n: 3, text: "c" },
      project: ["_rmx_id", "text"],
    });
    expect(await saved.json()).toEqual({ _rmx_id: id, text: "c" });
    const r3 = await s.request("alice", "GET", `/notes/query.json?query=${q}`, undefined, {
      "if-none-match": etag,
    });
    expect(r3.status).toBe(200);
    expect(r3.headers.get("etag")).not.toBe(etag);
    expect(((await r3.json()) as unknown[]).length).toBe(2);

    const post = await s.request("alice", "POST", "/notes/query", {
      ast: { filter: { op: "==", path: ["n"], value: 3 } },
    });
    expect(await post.json()).toMatchObject([{ text: "c" }]);
  });

  it("answers a repeated query with the same bytes, cursor and ETag until the app changes", async () => {
    await s.request("alice", "POST", "/x/apps", { name: "repeat", indexedFields: ["n"] });
    await s.request(
      "alice",
      "POST",
      "/repeat",
      [1, 2, 3].map((n) => ({ _rmx_type: "t", n })),
    );
    const url = `/repeat/query.json?query=${encodeURIComponent("n >= 1 | limit 2")}`;
    const a = await s.request("alice", "GET", url);
    const b = await s.request("alice", "GET", url);
    expect(b.status).toBe(200);
    expect(b.headers.get("etag")).toBe(a.headers.get("etag"));
    expect(b.headers.get("x-next-cursor")).toBe(a.headers.get("x-next-cursor"));
    expect(b.headers.get("x-next-cursor")).toBeTruthy();
    expect(b.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await b.text()).toBe(await a.text());
    await s.request("alice", "POST", "/repeat", { _rmx_type: "t", n: 0 });
    const c = await s.request("alice", "GET", `/repeat/query.json?query=${encodeURIComponent("n >= 0")}`);
    expect(((await c.json()) as unknown[]).length).toBe(4);
    // Nobody without a role gets it from the cache either.
    expect((await s.request("mallory", "GET", url)).status).toBe(404);
  });

  it("keeps the answer cache within its bytes, oldest out first", () => {
    const cache = new AnswerCache(800, 400);
    cache.set("a", "x".repeat(150), undefined); // 302 bytes
    cache.set("b", "y".repeat(150), "n");
    cache.set("too-big", "z".repeat(300), undefined);
    expect(cache.get("too-big")).toBeUndefined();
    cache.set("c", "w".repeat(150), undefined); // past 800: "a" goes
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("b")).toEqual({ body: "y".repeat(150), next: "n" });
    expect(cache.get("c")?.body).toBe("w".repeat(150));
  });

  it("applies /documents batches atomically", async () => {
    await s.request("alice", "POST", "/x/apps", { name: "batch" });
    const ok = await s.request("alice", "POST", "/batch/documents", {
      ops: [
        { op: "insert", doc: { _rmx_id: "a", _rmx_type: "t" } },
        { op: "insert", doc: { _rmx_id: "b", _rmx_type: "t" } },
      ],
    });
    expect(ok.status).toBe(200);
    const bad = await s.request("alice", "POST", "/batch/documents", {
      ops: [
        { op: "delete", id: "a" },
        { op: "insert", doc: { _rmx_id: "b", _rmx_type: "t" } },
      ],
    });
    expect(bad.status).toBe(409);
    expect(await bad.json()).toMatchObject({ error: { code: "conflict" } });
    expect((await s.request("alice", "GET", "/batch/documents/a.json")).status).toBe(200);
  });

  it("uploads and downloads files with content type, refusing oversize bodies", async () => {
    await s.request("alice", "POST", "/x/apps", { name: "files" });
    const data = new Uint8Array(5000).map((_, i) => i & 255);
    const up = await s.request("alice", "PUT", "/files/files/pic.png", data, { "content-type": "image/png" });
    expect(up.status).toBe(201);
    const down = await s.request("alice", "GET", "/files/files/pic.png");
    expect(down.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await down.arrayBuffer())).toEqual(data);
    const { ref } = (await up.json()) as { ref: string };
    const raw = await s.request("alice", "GET", `/files/raw/${ref}`);
    expect(new Uint8Array(await raw.arrayBuffer())).toEqual(data);
    const big = await s.request("alice", "PUT", "/files/files/big.bin", new Uint8Array(65 * 1024));
    expect(big.status).toBe(413);
    expect((await s.request("alice", "GET", "/files/files/big.bin")).status).toBe(404);
  });

  it("never answers 304 for an app that was deleted and created again", async () => {
    await s.request("alice", "POST", "/x/apps", { name: "again" });
    await s.request("alice", "POST", "/again", { _rmx_type: "t", v: 1 });
    const url = `/again/query.json?query=${encodeURIComponent("v == 1")}`;
    const etag = (await s.request("alice", "GET", url)).headers.get("etag")!;
    expect((await s.request("alice", "DELETE", "/x/apps/again")).status).toBe(204);
    await s.request("alice", "POST", "/x/apps", { name: "again" });
    await s.request("alice", "POST", "/again", { _rmx_type: "t", v: 2 }); // same sequence number as before
    const res = await s.request("alice", "GET", url, undefined, { "if-none-match": etag });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([]);
  });

  it("describes every route in OpenAPI from the same zod schemas", () => {
    const doc = appsRoutes({ apps: s.apps }).getOpenAPIDocument({
      openapi: "3.0.0",
      info: { title: "apps", version: "1" },
    });
    expect(Object.keys(doc.paths ?? {}).sort()).toEqual(
      [
        "/x/apps",
        "/x/apps/{app}",
        "/x/apps/{app}/acl",
        "/x/apps/import",
        "/x/apps/export",
        "/{app}",
        "/{app}/documents",
        "/{app}/documents/{file}",
        "/{app}/save",
        "/{app}/query",
        "/{app}/query.json",
        "/{app}/raw/{ref}",
        "/{app}/files",
        "/{app}/files/{name}",
        "/{app}/resources",
        "/{app}/runtime.json",
        "/{app}/records",
        "/{app}/link",
      ].sort(),
    );
    expect(doc.paths?.["/{app}/query.json"]?.get?.responses).toHaveProperty("304");
  });
});
