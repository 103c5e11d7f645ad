import { decodeMsgpack, encodeMsgpack, ref } from "@amp/codec";
import { buildRemix } from "@amp/test-support";
import { beforeAll, describe, expect, it } from "vitest";
import { importRemix } from "../src/index.js";
import { ENGINES, useEngine } from "./engines.js";
import { root } from "./helpers.js";
import { serveApps, type TestServer } from "./http-helpers.js";

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

describe.each(ENGINES)("/{app}/records and /{app}/link (real %s)", (engineName) => {
  const engine = useEngine(engineName);
  let s: TestServer;
  beforeAll(async () => {
    s = serveApps(await engine.apps(), {}, async () => {}); // the engine closes the registry
    await importRemix(s.apps, root, once(buildRemix("rec")));
    await s.apps.create(root, "catalog");
    await s.apps.create(root, "shelf");
    await s.apps.setRules(root, "rec", { allowed_read: ["reader"], allowed_create: ["writer"] });
    await s.apps.setRules(root, "catalog", { allowed_read: ["writer", "reader"] });
    await s.apps.setRules(root, "shelf", { allowed_create: ["writer"], allowed_read: ["reader"] });
    const catalog = await s.apps.store(root, "catalog", ["allowed_build"]);
    const blob = await catalog.blobs.put([new TextEncoder().encode("cover image bytes")]);
    await catalog.write(
      [{ op: "insert", doc: { _rmx_id: "book1", _rmx_type: "book", title: "Dune", cover: ref(blob.ref) } }],
      "root",
    );
  });

  it("GET answers the records (not the app record nor the executable), JSON or records.mp msgpack", async () => {
    const res = await s.request("reader", "GET", "/rec/records");
    expect(res.status).toBe(200);
    const { records } = (await res.json()) as { records: { _rmx_id: string; link?: unknown }[] };
    expect(records.map((r) => r._rmx_id).sort()).toEqual(["r1", "r2"]);
    expect(records.find((r) => r._rmx_id === "r1")!.link).toEqual({
      _rmx_type: "{tag}case:db.ref",
      _rmx_value: "r2",
    });
    const mp = await s.request("reader", "GET", "/rec/records", undefined, {
      accept: "application/x-msgpack",
    });
    expect(mp.headers.get("content-type")).toBe("application/x-msgpack");
    const decoded = decodeMsgpack(new Uint8Array(await mp.arrayBuffer())) as { _rmx_id: string }[];
    expect(decoded.map((r) => r._rmx_id).sort()).toEqual(["r1", "r2"]);
  });

  it("PUT writes records atomically (msgpack or JSON); replace=true drops the others", async () => {
    const body = encodeMsgpack([
      { _rmx_id: "r3", _rmx_type: "thing", name: "three", _rmx_rev: "{ref}stale" },
      { _rmx_id: "r1", _rmx_type: "thing", name: "one again" },
    ]);
    const put = await s.request("writer", "PUT", "/rec/records", body, {
      "content-type": "application/x-msgpack",
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toMatchObject({ written: 2, deleted: 0 });
    const store = await s.apps.store(root, "rec", ["allowed_read"]);
    expect(await store.get("r1")).toMatchObject({ name: "one again", _rmx_last_modified_by: "writer" });
    const replace = await s.request("writer", "PUT", "/rec/records?replace=true", {
      records: [{ _rmx_id: "r3", _rmx_type: "thing", name: "only" }],
    });
    expect(await replace.json()).toMatchObject({ written: 1, deleted: 2 });
    expect(await store.get("r1")).toBeUndefined();
    expect(await store.get("_rmx_app")).toBeDefined(); // the app record is no record: kept
    expect(await store.get("_rmx_library:executable_cross.WASM")).toBeDefined();
  });

  it("bad input changes nothing: no id, the app record's id, not an array, a wrong type, no role", async () => {
    const store = await s.apps.store(root, "rec", ["allowed_read"]);
    const seq = store.seq;
    const cases: [unknown, string, number][] = [
      [
        [
          { _rmx_type: "x", n: 1 },
          { _rmx_id: "ok", _rmx_type: "x" },
        ],
        "invalid_document",
        400,
      ],
      [[{ _rmx_id: "_rmx_app", _rmx_type: "app" }], "invalid_document", 400],
      [{ records: "nope" }, "bad_request", 400],
    ];
    for (const [body, code, status] of cases) {
      const res = await s.request("writer", "PUT", "/rec/records", body);
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({ error: { code } });
    }
    expect(
      (await s.request("writer", "PUT", "/rec/records", "x", { "content-type": "text/plain" })).status,
    ).toBe(415);
    expect(
      (await s.request("writer", "PUT", "/rec/records", "{", { "content-type": "application/json" })).status,
    ).toBe(400);
    expect((await s.request("reader", "PUT", "/rec/records", [])).status).toBe(403);
    expect((await s.request("nobody", "GET", "/rec/records")).status).toBe(404);
    expect(store.seq).toBe(seq);
  });

  it("link copies a record from an app the user reads, with its blob and where it came from", async () => {
    const res = await s.request("writer", "POST", "/shelf/link", { from: "catalog", id: "book1" });
    expect(res.status).toBe(201);
    const { document, blobs } = (await res.json()) as { document: Record<string, unknown>; blobs: string[] };
    expect(document).toMatchObject({
      _rmx_id: "book1",
      title: "Dune",
      _rmx_link: { app: "catalog", id: "book1" },
    });
    expect(blobs).toHaveLength(1);
    const raw = await s.request("reader", "GET", `/shelf/raw/${blobs[0]}`);
    expect(await raw.text()).toBe("cover image bytes");
    // Again: 409, unless replace; under another id it is a second link.
    expect((await s.request("writer", "POST", "/shelf/link", { from: "catalog", id: "book1" })).status).toBe(
      409,
    );
    expect(
      (await s.request("writer", "POST", "/shelf/link", { from: "catalog", id: "book1", replace: true }))
        .status,
    ).toBe(201);
    const other = await s.request("writer", "POST", "/shelf/link", {
      from: "catalog",
      id: "book1",
      as: "dune",
    });
    expect(((await other.json()) as { document: { _rmx_id: string } }).document._rmx_id).toBe("dune");
  });

  it("link is ACL-checked on both sides and refuses unknown records", async () => {
    // reader may read catalog but not create in shelf
    expect((await s.request("reader", "POST", "/shelf/link", { from: "catalog", id: "book1" })).status).toBe(
      403,
    );
    // writer may create in shelf, but an app it holds no role on is "no such app"
    expect((await s.request("writer", "POST", "/shelf/link", { from: "secret", id: "x" })).status).toBe(404);
    expect((await s.request("writer", "POST", "/shelf/link", { from: "catalog", id: "nope" })).status).toBe(
      404,
    );
    expect(
      (await s.request("writer", "POST", "/shelf/link", { from: "catalog", id: "_rmx_app" })).status,
    ).toBe(400);
    expect((await s.request("writer", "POST", "/shelf/link", { from: "catalog" })).status).toBe(400);
  });
});
