import { join } from "node:path";
import { isMixMap, MixCase, type MixValue, mixEqual, ref, TaggedString } from "@amp/codec";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppsError, DocumentStore } from "../src/index.js";
import { checkDocument, DEFAULT_DOCUMENT_LIMITS } from "../src/store/document.js";
import { silentLogger, tempDir } from "./helpers.js";
import { mixValueArb } from "./query/arbitraries.js";

describe("DocumentStore (real LMDB)", () => {
  let dir: ReturnType<typeof tempDir>;
  let store: DocumentStore;
  beforeEach(() => {
    dir = tempDir();
    store = new DocumentStore({ path: dir.path, app: "a", logger: silentLogger, indexedFields: ["name"] });
  });
  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  it("stamps system fields and keeps Mix values exactly", async () => {
    const doc = {
      _rmx_type: "thing",
      name: "x",
      big: 2n ** 60n,
      link: ref("abc"),
      bytes: new Uint8Array([1, 2]),
    };
    const { seq, results } = await store.write([{ op: "insert", doc }], "alice");
    expect(seq).toBe(1);
    const saved = results[0]!;
    expect(typeof saved._rmx_id).toBe("string");
    expect(saved._rmx_rev).toBeInstanceOf(TaggedString);
    expect(saved._rmx_previous).toBeUndefined();
    expect(saved._rmx_created_by).toBe("alice");
    const read = store.get(saved._rmx_id as string)!;
    expect(mixEqual(read, saved)).toBe(true);

    const second = (await store.write([{ op: "update", doc: { ...read, name: "y" } }], "bob")).results[0]!;
    expect(mixEqual(second._rmx_previous, saved._rmx_rev)).toBe(true);
    expect(second._rmx_created_by).toBe("alice");
    expect(second._rmx_last_modified_by).toBe("bob");
    expect(store.seq).toBe(2);
  });

  it("applies a batch all-or-nothing", async () => {
    await store.write([{ op: "insert", doc: { _rmx_id: "a", _rmx_type: "t" } }], "u");
    const seq = store.seq;
    const err = await store
      .write(
        [
          { op: "insert", doc: { _rmx_id: "b", _rmx_type: "t" } },
          { op: "delete", id: "a" },
          { op: "insert", doc: { _rmx_id: "a2", _rmx_type: "t" } },
          { op: "update", doc: { _rmx_id: "missing", _rmx_type: "t" } },
        ],
        "u",
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppsError);
    expect((err as AppsError).code).toBe("not_found");
    expect(store.get("a")).toBeDefined();
    expect(store.get("b")).toBeUndefined();
    expect(store.get("a2")).toBeUndefined();
    expect(store.seq).toBe(seq);
    expect([...store.indexSet.ids("_rmx_type", {})]).toEqual(["a"]);
  });

  it("refuses a stale _rmx_rev (optimistic concurrency)", async () => {
    const v1 = (await store.write([{ op: "insert", doc: { _rmx_type: "t" } }], "u")).results[0]!;
    await store.write([{ op: "update", doc: { ...v1, n: 1 } }], "u");
    await expect(store.write([{ op: "update", doc: { ...v1, n: 2 } }], "u")).rejects.toMatchObject({
      code: "conflict",
    });
  });

  it("rejects deep documents and __proto__ keys before writing", async () => {
    let deep: Record<string, unknown> = { _rmx_type: "t" };
    for (let i = 0; i < 100; i++) deep = { _rmx_type: "t", x: deep };
    await expect(store.write([{ op: "insert", doc: deep as never }], "u")).rejects.toMatchObject({
      code: "invalid_document",
    });
    const proto = JSON.parse('{"_rmx_type":"t","__proto__":{"admin":true}}');
    await expect(store.write([{ op: "insert", doc: proto }], "u")).rejects.toMatchObject({
      code: "invalid_document",
    });
    expect(store.count).toBe(0);
    expect(store.seq).toBe(0);
  });

  it("publishes committed changes to subscribers, in order", async () => {
    const seen: number[] = [];
    const off = store.subscribe((e) => seen.push(e.seq));
    await store.write([{ op: "insert", doc: { _rmx_type: "t" } }], "u");
    await Promise.all([1, 2, 3].map(() => store.write([{ op: "insert", doc: { _rmx_type: "t" } }], "u")));
    await store.write([{ op: "insert", doc: { _rmx_id: "dup", _rmx_type: "t" } }], "u");
    await store.write([{ op: "insert", doc: { _rmx_id: "dup", _rmx_type: "t" } }], "u").catch(() => {});
    off();
    await store.write([{ op: "insert", doc: { _rmx_type: "t" } }], "u");
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it("keeps indexes in step with updates and deletes, and survives reopen", async () => {
    await store.write(
      [
        { op: "insert", doc: { _rmx_id: "1", _rmx_type: "t", name: "ann" } },
        { op: "insert", doc: { _rmx_id: "2", _rmx_type: "u", name: "bob" } },
      ],
      "u",
    );
    await store.write([{ op: "upsert", doc: { _rmx_id: "1", _rmx_type: "u", name: "cat" } }], "u");
    await store.write([{ op: "delete", id: "2" }], "u");
    await store.close();
    store = new DocumentStore({ path: dir.path, app: "a", logger: silentLogger, indexedFields: ["name"] });
    expect(store.seq).toBe(3);
    expect([...store.indexSet.ids("_rmx_type", {})]).toEqual(["1"]);
    expect([...store.indexSet.ids("name", {})]).toEqual(["1"]);
  });

  it("streams blobs back byte for byte, content-addressed", async () => {
    const data = Buffer.alloc(200_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 255;
    const a = await store.blobs.put([data.subarray(0, 1000), data.subarray(1000)]);
    const b = await store.blobs.put([data]);
    expect(a.ref).toBe(b.ref);
    expect(a.size).toBe(200_000);
    expect((await store.blobs.read(a.ref)).equals(data)).toBe(true);
    const empty = await store.blobs.put([]);
    expect((await store.blobs.read(empty.ref)).length).toBe(0);
  });
});

describe("stored documents", () => {
  it("keep every Mix value a document may hold, -0 and 64-bit integers included (real LMDB)", async () => {
    const dir = tempDir();
    const store = new DocumentStore({ path: dir.path, app: "a", logger: silentLogger });
    try {
      const values = fc.sample(mixValueArb, 300);
      const refused = values.filter(hasLoneSurrogate);
      for (const v of refused) {
        expect(() => checkDocument({ _rmx_type: "t", v }, DEFAULT_DOCUMENT_LIMITS)).toThrow(/surrogate/);
      }
      const kept = values.filter((v) => !hasLoneSurrogate(v));
      const docs = [...kept, -0, 2n ** 62n, -(2n ** 63n)].map((v, i) => ({
        _rmx_id: `d${i}`,
        _rmx_type: "t",
        v,
      }));
      await store.write(
        docs.map((doc) => ({ op: "insert" as const, doc })),
        "u",
      );
      for (const doc of docs) expect(mixEqual(store.get(doc._rmx_id)!.v, doc.v)).toBe(true);
      expect(Object.is(store.get(`d${kept.length}`)!.v, -0)).toBe(true);
    } finally {
      await store.close();
      dir.remove();
    }
  });

  it("refuses a tag holding }, which no Mix wire can carry", async () => {
    const doc = { _rmx_type: "t", v: new TaggedString("a}b", "c") };
    expect(() => checkDocument(doc, DEFAULT_DOCUMENT_LIMITS)).toThrow(AppsError);
  });
});

function hasLoneSurrogate(v: MixValue): boolean {
  if (typeof v === "string") return !v.isWellFormed();
  if (Array.isArray(v)) return v.some(hasLoneSurrogate);
  if (isMixMap(v)) return Object.entries(v).some(([k, x]) => !k.isWellFormed() || hasLoneSurrogate(x));
  if (v instanceof MixCase) return hasLoneSurrogate(v.name) || hasLoneSurrogate(v.arg);
  if (v instanceof TaggedString) return hasLoneSurrogate(v.tag) || hasLoneSurrogate(v.value);
  return false;
}

describe("binary values read from the store", () => {
  it("are copies of their own, not views of LMDB's reused read buffer", async () => {
    const dir = tempDir();
    const s = new DocumentStore({ path: join(dir.path, "bin"), app: "bin", logger: silentLogger });
    try {
      await s.write(
        [
          { op: "insert", doc: { _rmx_id: "a", _rmx_type: "t", b: new Uint8Array([1, 2, 3]) } },
          { op: "insert", doc: { _rmx_id: "b", _rmx_type: "t", b: new Uint8Array([9, 9, 9]) } },
        ],
        "u",
      );
      const a = s.get("a")!;
      s.get("b");
      [...s.allDocuments()];
      expect(a.b).toEqual(new Uint8Array([1, 2, 3]));
    } finally {
      await s.close();
      dir.remove();
    }
  });
});
