import { join } from "node:path";
import type { MixMap } from "@amp/codec";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { DocumentStore, runQuery, runStoreQuery } from "../src/index.js";
import { silentLogger, tempDir } from "./helpers.js";
import { exprArb, mixValueArb } from "./query/arbitraries.js";

const FIELDS = ["a", "b", "c.d"];

const docsArb = fc.array(
  fc.record(
    {
      _rmx_type: fc.constantFrom("note", "task"),
      a: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom("", "a", "ab", "b"), mixValueArb),
      b: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom("x", "y")),
      c: fc.record({ d: fc.oneof(fc.boolean(), fc.constantFrom("a", "b")) }, { noNullPrototype: true }),
    },
    { requiredKeys: ["_rmx_type"], noNullPrototype: true },
  ),
  { maxLength: 20 },
);

describe("DocumentStore queries: index plans give the scan's results (real LMDB)", () => {
  const root = tempDir();
  let n = 0;
  afterAll(() => root.remove());

  it("equals the reference executor over all documents, for random documents and filters", async () => {
    const plans = new Set<string>();
    await fc.assert(
      fc.asyncProperty(docsArb, exprArb, fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }), async (docs, filter, limit) => {
        const store = new DocumentStore({ path: join(root.path, String(n++)), app: "q", logger: silentLogger, indexedFields: FIELDS });
        try {
          const ops = docs.map((d, i) => ({ op: "insert" as const, doc: { ...(d as MixMap), _rmx_id: `d${i}` } }));
          if (ops.length > 0) await store.write(ops, "u");
          const query = { filter, ...(limit === undefined ? {} : { limit }) };
          const stored = [...store.allDocuments()];
          const expected = runQuery(query, stored);
          const actual = runStoreQuery(store, query);
          plans.add(actual.plan);
          expect(actual.documents).toEqual(expected.documents);
          expect(actual.next).toEqual(expected.cursor);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 60 },
    );
    expect([...plans].some((p) => p.startsWith("index:"))).toBe(true);
  });

  it("uses the _rmx_type index for the executable query", async () => {
    const store = new DocumentStore({ path: join(root.path, "exe"), app: "q", logger: silentLogger });
    await store.write(
      [
        { op: "insert", doc: { _rmx_type: "executable_cross", variant: "WASM", dataRef: "x" } },
        { op: "insert", doc: { _rmx_type: "executable_cross", variant: "BYTECODE", dataRef: "y" } },
        { op: "insert", doc: { _rmx_type: "note" } },
      ],
      "u",
    );
    const { parse } = await import("../src/index.js");
    const r = runStoreQuery(store, parse('_rmx_type == "executable_cross" && variant == "WASM" | { dataRef }'));
    expect(r.plan).toBe("index:_rmx_type");
    expect(r.documents).toEqual([{ dataRef: "x" }]);
    await store.close();
  });
});
