import { isMixMap, MixCase, type MixValue, mixEqual, ref, TaggedString } from "@amp/codec";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { AppsError, type DocumentStore, parse } from "../src/index.js";
import { checkDocument, DEFAULT_DOCUMENT_LIMITS } from "../src/store/document.js";
import { ENGINES, useEngine } from "./engines.js";
import { drain } from "./helpers.js";
import { mixValueArb } from "./query/arbitraries.js";

/** Ids of the documents whose `field` is a string, read through the index on `field`. */
async function indexedIds(store: DocumentStore, field: string): Promise<string[]> {
  const r = await store.query(parse(`${field} startsWith ""`));
  expect(r.plan).toBe(`index:${field}`);
  return r.documents.map((d) => d._rmx_id as string);
}

describe.each(ENGINES)("DocumentStore (real %s)", (engineName) => {
  const engine = useEngine(engineName);
  let store: DocumentStore;
  beforeEach(async () => {
    store = await engine.store({ indexedFields: ["name"] });
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
    const read = (await store.get(saved._rmx_id as string))!;
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
    expect(await store.get("a")).toBeDefined();
    expect(await store.get("b")).toBeUndefined();
    expect(await store.get("a2")).toBeUndefined();
    expect(store.seq).toBe(seq);
    expect(await store.currentSeq()).toBe(seq);
    expect(await indexedIds(store, "_rmx_type")).toEqual(["a"]);
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
    expect(await store.count()).toBe(0);
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

  it("commits concurrent batches as if one after another: each alone or not at all, each its own sequence number", async () => {
    await store.write([{ op: "insert", doc: { _rmx_id: "shared", _rmx_type: "t", n: 0 } }], "u");
    const base = store.seq;
    const batches: { seq: number; ids: string[] }[] = [];
    const off = store.subscribe((e) => batches.push({ seq: e.seq, ids: e.changes.map((c) => c.id) }));
    // 40 batches at once: every fifth fails on its last op (a missing document) and must leave
    // nothing; the others insert their own document and delete-or-update the one before theirs.
    const writes = Array.from({ length: 40 }, (_, i) =>
      store.write(
        [
          { op: "insert", doc: { _rmx_id: `c${i}`, _rmx_type: "t", name: `n${i}` } },
          i % 5 === 4
            ? { op: "delete", id: "missing" }
            : { op: "upsert", doc: { _rmx_id: "shared", _rmx_type: "t", n: i } },
        ],
        "u",
      ),
    );
    const settled = await Promise.allSettled(writes);
    off();
    const committed = settled.flatMap((r, i) => (r.status === "fulfilled" ? [{ i, seq: r.value.seq }] : []));
    expect(committed.map((c) => c.i)).toEqual(
      Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 5 !== 4),
    );
    for (const [i, r] of settled.entries()) {
      if (r.status === "rejected") expect((r.reason as AppsError).code).toBe("not_found");
      expect(await store.get(`c${i}`)).toEqual(
        i % 5 === 4 ? undefined : expect.objectContaining({ name: `n${i}` }),
      );
    }
    // In submission order, one number each, no gaps; the last committed upsert wins.
    expect(committed.map((c) => c.seq)).toEqual(committed.map((_, k) => base + 1 + k));
    expect(store.seq).toBe(base + 32);
    expect(await store.currentSeq()).toBe(base + 32);
    expect(await store.get("shared")).toMatchObject({ n: 38 });
    // The feed: every committed batch once, with its own number and only its own changes.
    expect(batches).toEqual(committed.map((c) => ({ seq: c.seq, ids: [`c${c.i}`, "shared"] })));
    expect(await indexedIds(store, "name")).toHaveLength(32);
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
    store = await engine.reopen(store, { indexedFields: ["name"] });
    expect(store.seq).toBe(3);
    expect(await indexedIds(store, "_rmx_type")).toEqual(["1"]);
    expect(await indexedIds(store, "name")).toEqual(["1"]);
    expect((await store.query(parse('name == "cat"'))).plan).toBe("index:name");
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
    expect(await store.blobs.info(a.ref)).toEqual({ ref: a.ref, size: 200_000 });
    expect(await store.blobs.info("0".repeat(64))).toBeUndefined();
    await expect(store.blobs.read("0".repeat(64))).rejects.toMatchObject({ code: "not_found" });
  });

  it("keeps files, metadata and documents in id order", async () => {
    await store.files.put("a.txt", [Buffer.from("hi")], "text/plain", "u", true);
    expect(await store.files.get("a.txt")).toMatchObject({ name: "a.txt", size: 2, public: true });
    expect((await store.files.list()).map((f) => f.name)).toEqual(["a.txt"]);
    await store.files.delete("a.txt");
    expect(await store.files.get("a.txt")).toBeUndefined();
    await expect(store.files.delete("a.txt")).rejects.toMatchObject({ code: "not_found" });
    await store.setMeta("runtime.json", { big: 1, list: ["x"] });
    expect(await store.getMeta("runtime.json")).toEqual({ big: 1, list: ["x"] });
    expect(await store.getMeta("nothing")).toBeUndefined();
    await store.write(
      ["c", "a", "b"].map((id) => ({ op: "insert" as const, doc: { _rmx_id: id, _rmx_type: "t" } })),
      "u",
    );
    expect(await store.count()).toBe(3);
    expect((await store.list(2)).map((d) => d._rmx_id)).toEqual(["a", "b"]);
    expect((await store.list(2, "b")).map((d) => d._rmx_id)).toEqual(["c"]);
    expect((await drain(store.allDocuments())).map((d) => d._rmx_id)).toEqual(["a", "b", "c"]);
  });
});

describe.each(ENGINES)("stored documents (real %s)", (engineName) => {
  const engine = useEngine(engineName);
  it("keep every Mix value a document may hold, -0 and 64-bit integers included", async () => {
    const store = await engine.store();
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
    for (const doc of docs) expect(mixEqual((await store.get(doc._rmx_id))!.v, doc.v)).toBe(true);
    expect(Object.is((await store.get(`d${kept.length}`))!.v, -0)).toBe(true);
    const byId = new Map(docs.map((d) => [d._rmx_id, d.v]));
    for (const d of await drain(store.allDocuments()))
      expect(mixEqual(d.v, byId.get(d._rmx_id as string)!)).toBe(true);
  });

  it("refuses a tag holding }, which no Mix wire can carry", async () => {
    const doc = { _rmx_type: "t", v: new TaggedString("a}b", "c") };
    expect(() => checkDocument(doc, DEFAULT_DOCUMENT_LIMITS)).toThrow(AppsError);
  });

  it("concurrent point reads each answer their own document: large, small and missing ones", async () => {
    const s = await engine.store();
    const docs = Array.from({ length: 300 }, (_, i) => ({
      _rmx_id: `d${i}`,
      _rmx_type: "t",
      // Some larger than a socket read, so their rows arrive in pieces.
      text: i % 50 === 7 ? "é".repeat(200_000 + i) : `doc ${i}`,
      bytes: new Uint8Array([i % 256, 0, 255]),
    }));
    const { results } = await s.write(
      docs.map((doc) => ({ op: "insert" as const, doc })),
      "u",
    );
    const ids = [...docs.map((d) => d._rmx_id), "missing", "d1x", "ünïcode", "a'quote"];
    const read = await Promise.all([...ids, ...ids].map((id) => s.get(id)));
    read.forEach((doc, i) => {
      const expected = results[i % ids.length];
      if (expected === undefined) expect(doc).toBeUndefined();
      else expect(mixEqual(doc, expected)).toBe(true);
    });
  });

  it("binary values read back are copies of their own, not views of a reused read buffer", async () => {
    const s = await engine.store();
    await s.write(
      [
        { op: "insert", doc: { _rmx_id: "a", _rmx_type: "t", b: new Uint8Array([1, 2, 3]) } },
        { op: "insert", doc: { _rmx_id: "b", _rmx_type: "t", b: new Uint8Array([9, 9, 9]) } },
      ],
      "u",
    );
    const a = (await s.get("a"))!;
    await s.get("b");
    await drain(s.allDocuments());
    expect(a.b).toEqual(new Uint8Array([1, 2, 3]));
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
