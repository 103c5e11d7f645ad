import type { MixMap } from "@amp/codec";
import fc from "fast-check";
import { find } from "mingo";
import { describe, expect, it } from "vitest";
import {
  compareKeys,
  documentIndexKey,
  type Expr,
  keyBounds,
  type Literal,
  type Plan,
  plan,
  type Query,
  type RangeLiteral,
  runQuery,
} from "../../src/query/index.js";
import { ENGINES, useEngine } from "../engines.js";
import { mixValueArb } from "./arbitraries.js";
import { toMongo } from "./to-mongo.js";

// The fragment where our semantics and MongoDB's are the same (see to-mongo.ts).
const scalar = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom(0.5, -1.5, 2.25),
  fc.constantFrom("", "a", "ab", "abc", "b", "B", "é", "a.b", "(x"),
  fc.boolean(),
  fc.constant(null),
);
const rangeScalar = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constant(0.5),
  fc.constantFrom("", "a", "ab", "b", "é"),
);
const fieldValue = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
  {
    weight: 1,
    arbitrary: fc.dictionary(fc.constantFrom("x", "y"), scalar, { maxKeys: 2 }).map((d) => ({ ...d })),
  },
);
const FIELDS = ["a", "b", "t", "n"] as const;

const docsArb = fc
  .array(
    fc.record(
      {
        _rmx_type: fc.constantFrom("note", "task", "executable_cross"),
        a: fieldValue,
        b: fieldValue,
        t: fc.array(scalar, { maxLength: 3 }),
        n: fieldValue,
      },
      { requiredKeys: ["_rmx_type"], noNullPrototype: true },
    ),
    { maxLength: 25 },
  )
  .map((docs) => docs.map((d, i) => ({ _rmx_id: `d${String(i).padStart(3, "0")}`, ...d }) as MixMap));

const path: fc.Arbitrary<string[]> = fc.oneof(
  fc.constantFrom(...FIELDS).map((f) => [f]),
  fc.constantFrom<string[]>(["n", "x"], ["n", "y"], ["_rmx_type"], ["missing"]),
);

const filterArb: fc.Arbitrary<Expr> = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", maxDepth: 4, withCrossShrink: true },
    fc.record(
      { op: fc.constantFrom("==" as const, "!=" as const), path, value: scalar },
      { noNullPrototype: true },
    ),
    fc.record(
      {
        op: fc.constantFrom("<" as const, "<=" as const, ">" as const, ">=" as const),
        path,
        value: rangeScalar,
      },
      { noNullPrototype: true },
    ),
    fc.record(
      { op: fc.constant("in" as const), path, values: fc.array(scalar, { maxLength: 3 }) },
      { noNullPrototype: true },
    ),
    fc.record({ op: fc.constant("contains" as const), path, value: scalar }, { noNullPrototype: true }),
    fc.record(
      { op: fc.constant("startsWith" as const), path, value: fc.constantFrom("", "a", "ab", "(", "é") },
      { noNullPrototype: true },
    ),
    fc.record({ op: fc.constant("exists" as const), path }, { noNullPrototype: true }),
    fc.record({ op: fc.constant("not" as const), arg: tie("expr") }, { noNullPrototype: true }),
    fc.record(
      {
        op: fc.constantFrom("and" as const, "or" as const),
        args: fc.array(tie("expr"), { minLength: 2, maxLength: 3 }),
      },
      { noNullPrototype: true },
    ),
  ),
})).expr;

const ids = (docs: readonly MixMap[]) => docs.map((d) => d._rmx_id);

/** An in-memory stand-in for the store's index tables: per field, (key, doc) in key order; scanned with `keyBounds` as LMDB's getRange would. */
function runWithIndexes(
  query: Query,
  docs: readonly MixMap[],
  indexed: readonly string[],
): { ids: unknown[]; plan: Plan } {
  const p = plan(query, indexed);
  if (p.kind === "scan") return { ids: ids(runQuery(query, docs).documents), plan: p };
  const entries = docs
    .map((doc) => ({ doc, key: documentIndexKey(doc, p.field) }))
    .filter((e): e is { doc: MixMap; key: Uint8Array } => e.key !== undefined)
    .sort((x, y) => compareKeys(x.key, y.key));
  const candidates: MixMap[] = [];
  for (const range of p.ranges) {
    const { start, end } = keyBounds(range);
    for (const e of entries) {
      if ((start && compareKeys(e.key, start) < 0) || (end && compareKeys(e.key, end) >= 0)) continue;
      candidates.push(e.doc);
    }
  }
  expect(new Set(candidates).size).toBe(candidates.length); // ranges are disjoint
  const { filter: _, ...rest } = query;
  return {
    ids: ids(runQuery({ ...rest, ...(p.residual && { filter: p.residual }) }, candidates).documents),
    plan: p,
  };
}

describe.each(ENGINES)("differential: a real %s store against mingo", (engineName) => {
  const engine = useEngine(engineName);
  it("filters the same documents, through its indexes or a scan", async () => {
    const plans = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        docsArb,
        filterArb,
        fc.subarray(["a", "b", "t", "n.x"]),
        async (docs, filter, fields) => {
          const store = await engine.store({ indexedFields: fields });
          try {
            if (docs.length > 0)
              await store.write(
                docs.map((doc) => ({ op: "insert" as const, doc })),
                "u",
              );
            const result = await store.query({ filter });
            plans.add(result.plan);
            const theirs = find(docs, toMongo(filter))
              .sort({ _rmx_id: 1 })
              .all()
              .map((d) => d._rmx_id);
            expect(ids(result.documents)).toStrictEqual(theirs);
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: 60 },
    );
    expect([...plans].some((p) => p.startsWith("index:"))).toBe(true);
  });
});

describe("differential: runQuery against mingo (MongoDB semantics)", () => {
  it("filters the same documents", () => {
    fc.assert(
      fc.property(docsArb, filterArb, (docs, filter) => {
        const ours = ids(runQuery({ filter }, docs).documents);
        const theirs = find(docs, toMongo(filter))
          .sort({ _rmx_id: 1 })
          .all()
          .map((d) => d._rmx_id);
        expect(ours).toStrictEqual(theirs);
      }),
      { numRuns: 1500 },
    );
  });

  it("sorts and pages the same documents", () => {
    // MongoDB sorts a missing field as null; we sort missing below null. So no nulls here.
    const sortable = fc.oneof(
      fc.integer({ min: -2, max: 2 }),
      fc.constantFrom("a", "b", "B", "é"),
      fc.boolean(),
    );
    const docs = fc
      .array(fc.record({ s1: sortable, s2: sortable }, { requiredKeys: [], noNullPrototype: true }), {
        maxLength: 20,
      })
      .map((ds) => ds.map((d, i) => ({ _rmx_id: `d${String(i).padStart(3, "0")}`, ...d }) as MixMap));
    const sortSpec = fc.uniqueArray(
      fc.record(
        {
          path: fc.constantFrom<string[]>(["s1"], ["s2"]),
          order: fc.constantFrom("asc" as const, "desc" as const),
        },
        { noNullPrototype: true },
      ),
      { minLength: 1, maxLength: 2, selector: (k) => k.path[0] },
    );
    fc.assert(
      fc.property(docs, sortSpec, fc.nat(5), fc.nat(8), (ds, sort, offset, limit) => {
        const ours = ids(runQuery({ sort, offset, limit }, ds).documents);
        const mongoSort: Record<string, 1 | -1> = {};
        for (const k of sort) mongoSort[k.path[0]!] = k.order === "asc" ? 1 : -1;
        mongoSort._rmx_id = 1;
        const theirs = find(ds, {})
          .sort(mongoSort)
          .skip(offset)
          .limit(limit)
          .all()
          .map((d) => d._rmx_id);
        expect(ours).toStrictEqual(theirs);
      }),
      { numRuns: 500 },
    );
  });
});

describe("differential: the planner returns what a scan returns", () => {
  const indexSets = fc.subarray(["a", "b", "t", "n", "n.x", "n.y", "missing"]);

  it("on the mingo fragment", () => {
    let indexed = 0;
    fc.assert(
      fc.property(docsArb, filterArb, indexSets, (docs, filter, fields) => {
        const scan = ids(runQuery({ filter }, docs).documents);
        const viaIndex = runWithIndexes({ filter }, docs, fields);
        if (viaIndex.plan.kind === "index") indexed++;
        expect(viaIndex.ids).toStrictEqual(scan);
      }),
      { numRuns: 1500 },
    );
    expect(indexed).toBeGreaterThan(200); // the index path really ran (about 355 of 1500, sd 17)
  });

  it("on any Mix values: int64 with f64, refs, cases, long and odd strings", () => {
    const longString = fc.string({
      minLength: 0,
      maxLength: 1200,
      unit: fc.constantFrom("a", "b", "\0", "é", "\u{1F600}", "\ud800"),
    });
    const value = fc.oneof(
      mixValueArb,
      longString,
      fc.constantFrom(1, 1n, 2 ** 53, 2n ** 53n + 1n, "a", "ab"),
    );
    const docs = fc
      .array(
        fc.record(
          { a: value, _rmx_type: fc.constantFrom("x", "y") },
          { requiredKeys: [], noNullPrototype: true },
        ),
        { maxLength: 20 },
      )
      .map((ds) => ds.map((d, i) => ({ _rmx_id: `d${String(i).padStart(3, "0")}`, ...d }) as MixMap));
    const literal = fc.oneof(
      fc.constantFrom<Literal>(
        1,
        0,
        -0,
        2 ** 53,
        "a",
        "ab",
        "",
        null,
        true,
        { $int64: "9007199254740993" },
        { $int64: "1" },
      ),
      fc.constantFrom<Literal>({ $tagged: "ref", value: "a" }, { $case: "A" }, { $case: "B", arg: 1 }),
      longString,
    );
    const rangeLiteral = fc.oneof(
      fc.constantFrom<RangeLiteral>(1, 0.5, 2 ** 53, "a", "ab", { $int64: "9007199254740993" }),
      longString,
    );
    const term: fc.Arbitrary<Expr> = fc.oneof(
      fc.record(
        {
          op: fc.constantFrom("==" as const, "!=" as const),
          path: fc.constant<string[]>(["a"]),
          value: literal,
        },
        { noNullPrototype: true },
      ),
      fc.record(
        {
          op: fc.constantFrom("<" as const, "<=" as const, ">" as const, ">=" as const),
          path: fc.constant<string[]>(["a"]),
          value: rangeLiteral,
        },
        { noNullPrototype: true },
      ),
      fc.record(
        {
          op: fc.constant("in" as const),
          path: fc.constant<string[]>(["a"]),
          values: fc.array(literal, { maxLength: 3 }),
        },
        { noNullPrototype: true },
      ),
      fc.record(
        {
          op: fc.constant("startsWith" as const),
          path: fc.constant<string[]>(["a"]),
          value: fc.oneof(longString, fc.constantFrom("\ud83d", "a")),
        },
        { noNullPrototype: true },
      ),
      fc.record(
        {
          op: fc.constant("==" as const),
          path: fc.constant<string[]>(["_rmx_type"]),
          value: fc.constantFrom("x", "y"),
        },
        { noNullPrototype: true },
      ),
    );
    const filter = fc.oneof(
      term,
      fc.array(term, { minLength: 2, maxLength: 3 }).map((args): Expr => ({ op: "and", args })),
    );
    fc.assert(
      fc.property(docs, filter, fc.boolean(), (ds, f, indexA) => {
        const scan = ids(runQuery({ filter: f }, ds).documents);
        expect(runWithIndexes({ filter: f }, ds, indexA ? ["a"] : []).ids).toStrictEqual(scan);
      }),
      { numRuns: 1500 },
    );
  });
});
