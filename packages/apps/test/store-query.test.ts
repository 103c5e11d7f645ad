import type { MixMap } from "@amp/codec";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Expr, parse, runQuery } from "../src/index.js";
import { ENGINES, useEngine } from "./engines.js";
import { drain } from "./helpers.js";
import { exprArb, storedDocsArb } from "./query/arbitraries.js";

const FIELDS = ["a", "b", "c.d"];

const docsArb = storedDocsArb({ maxLength: 20 });

const indexedValue = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom("", "a", "ab", "b", "x", "note"),
);

/** Predicates on the indexed fields, so that the planner has something to use. */
const indexedTerm: fc.Arbitrary<Expr> = fc.oneof(
  fc.record({
    op: fc.constant("==" as const),
    path: fc.constantFrom<string[]>(["a"], ["b"], ["c", "d"], ["_rmx_type"]),
    value: indexedValue,
  }),
  fc.record({
    op: fc.constantFrom("<" as const, "<=" as const, ">" as const, ">=" as const),
    path: fc.constantFrom<string[]>(["a"], ["b"], ["c", "d"], ["_rmx_type"]),
    value: indexedValue,
  }),
  fc.record({
    op: fc.constant("in" as const),
    path: fc.constantFrom<string[]>(["a"], ["b"]),
    values: fc.array(fc.constantFrom(1, 2, "a", "x"), { maxLength: 3 }),
  }),
  fc.record({
    op: fc.constant("startsWith" as const),
    path: fc.constantFrom<string[]>(["a"], ["c", "d"]),
    value: fc.constantFrom("", "a"),
  }),
);
const filterArb: fc.Arbitrary<Expr> = fc
  .tuple(fc.integer({ min: 0, max: 2 }), indexedTerm, exprArb)
  .map(([kind, x, y]): Expr => (kind === 0 ? x : kind === 1 ? y : { op: "and", args: [x, y] }));

describe.each(ENGINES)(
  "DocumentStore queries: index plans give the scan's results (real %s)",
  (engineName) => {
    const engine = useEngine(engineName);

    it("equals the reference executor over all documents, for random documents and filters", async () => {
      const plans = new Set<string>();
      await fc.assert(
        fc.asyncProperty(
          docsArb,
          filterArb,
          fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
          async (docs, filter, limit) => {
            const store = await engine.store({ indexedFields: FIELDS });
            try {
              const ops = docs.map((d, i) => ({
                op: "insert" as const,
                doc: { ...(d as MixMap), _rmx_id: `d${i}` },
              }));
              if (ops.length > 0) await store.write(ops, "u");
              const query = { filter, ...(limit === undefined ? {} : { limit }) };
              const stored = await drain(store.allDocuments());
              const expected = runQuery(query, stored);
              const actual = await store.query(query);
              plans.add(actual.plan);
              expect(actual.documents).toEqual(expected.documents);
              expect(actual.next).toEqual(expected.cursor);
            } finally {
              await store.close();
            }
          },
        ),
        { numRuns: 40 },
      );
      expect(
        [...plans].some((p) => p.startsWith("index:")),
        [...plans].join(),
      ).toBe(true);
    });

    it("sorts mixed types, projects and pages with cursors as the reference executor does", async () => {
      await fc.assert(
        fc.asyncProperty(
          docsArb,
          filterArb,
          fc.constantFrom("a", "b", "c.d"),
          fc.constantFrom("asc" as const, "desc" as const),
          fc.integer({ min: 1, max: 4 }),
          async (docs, filter, field, order, limit) => {
            const store = await engine.store({ indexedFields: FIELDS });
            try {
              const ops = docs.map((d, i) => ({
                op: "insert" as const,
                doc: { ...(d as MixMap), _rmx_id: `d${i}` },
              }));
              if (ops.length > 0) await store.write(ops, "u");
              const stored = await drain(store.allDocuments());
              const base = {
                filter,
                sort: [{ path: field.split("."), order }],
                project: [{ path: ["a"] }, { path: ["c", "d"], as: "cd" }],
                limit,
              };
              let after: string | undefined;
              for (let page = 0; page < 8; page++) {
                const query = after === undefined ? base : { ...base, after };
                const expected = runQuery(query, stored);
                const actual = await store.query(query);
                expect(actual.documents).toEqual(expected.documents);
                expect(actual.next).toEqual(expected.cursor);
                after = actual.next;
                if (after === undefined) break;
              }
            } finally {
              await store.close();
            }
          },
        ),
        { numRuns: 25 },
      );
    });

    it("uses the _rmx_type index for the executable query", async () => {
      const store = await engine.store();
      await store.write(
        [
          { op: "insert", doc: { _rmx_type: "executable_cross", variant: "WASM", dataRef: "x" } },
          { op: "insert", doc: { _rmx_type: "executable_cross", variant: "BYTECODE", dataRef: "y" } },
          { op: "insert", doc: { _rmx_type: "note" } },
        ],
        "u",
      );
      const r = await store.query(
        parse('_rmx_type == "executable_cross" && variant == "WASM" | { dataRef }'),
      );
      expect(r.plan).toBe("index:_rmx_type");
      expect(r.documents).toEqual([{ dataRef: "x" }]);
    });
  },
);
