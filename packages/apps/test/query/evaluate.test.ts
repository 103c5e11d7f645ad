import { MixCase, type MixMap, ref } from "@amp/codec";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileFilter, parse, plan, type Query, QueryCursorError, runQuery } from "../../src/query/index.js";

const doc: MixMap = {
  _rmx_id: "d1",
  _rmx_type: "note",
  name: "alpha",
  count: 3n,
  size: 2.5,
  empty: null,
  tags: ["x", "y"],
  meta: { owner: ref("u1"), "odd key": 1 },
  status: new MixCase("Active"),
  items: [{ name: "first" }],
  nan: Number.NaN,
};
const matches = (q: string) => compileFilter(parse(q).filter)(doc);

describe("filter semantics", () => {
  it.each([
    ['name == "alpha"', true],
    ["count == 3", true], // int64 and f64 are one numeric kind
    ["count >= 3 && count < 4", true],
    ['count == "3"', false], // no coercion across kinds
    ["name > 1 || name < 1", false], // ranges only within a kind
    ["missing == null", false], // missing is not null
    ["missing != 1", true], // != is !(==)
    ["missing exists", false],
    ["empty == null", true],
    ["empty exists", true],
    ['tags == "x"', false], // == compares the whole array
    ['tags contains "x"', true],
    ['tags contains "z"', false],
    ['name contains "a"', false], // contains is array membership only
    ['name startsWith "al"', true],
    ['count startsWith "3"', false],
    ['meta.owner == {ref}"u1"', true], // refs compare by tag and value
    ['meta.owner == "u1"', false],
    ['meta.owner == {user}"u1"', false],
    ["meta.`odd key` == 1", true],
    ["status == #Active", true],
    ['status == #Active("x")', false],
    ['items.0.name == "first"', true], // a numeric part indexes an array
    ['items.name == "first"', false], // no fan-out over elements
    ["nan < 0", true], // NaN sorts below every number
    ['name in ["beta", "alpha"]', true],
    ["count in [1, 3]", true],
    ["size in []", false],
    ['!(name == "alpha") || size > 2', true],
  ])("%s → %s", (q, expected) => {
    expect(matches(q)).toBe(expected);
  });
});

describe("runQuery", () => {
  const docs: MixMap[] = Array.from({ length: 30 }, (_, i) => ({
    _rmx_id: `id${String(i).padStart(2, "0")}`,
    _rmx_type: i % 3 === 0 ? "executable_cross" : "note",
    variant: i % 2 === 0 ? "WASM" : "JS",
    dataRef: ref(`blob${i}`),
    n: i % 5,
  }));

  it("answers the client's executable query with the projected dataRef", () => {
    const result = runQuery(
      parse('_rmx_type == "executable_cross" && variant == "WASM" | { dataRef }'),
      docs,
    );
    expect(result.documents).toStrictEqual([0, 6, 12, 18, 24].map((i) => ({ dataRef: ref(`blob${i}`) })));
    expect(result.cursor).toBeUndefined();
  });

  it("projects nested paths and aliases, leaving missing fields out", () => {
    const q = parse("| { _rmx_id, d: dataRef, meta.a, meta.b, gone }");
    const [first] = runQuery(q, [{ _rmx_id: "x", dataRef: 1, meta: { a: 1, c: 3 } }]).documents;
    expect(first).toStrictEqual({ _rmx_id: "x", d: 1, meta: { a: 1 } });
  });

  it("sorts by the keys then _rmx_id, and pages with offset and limit", () => {
    const { documents, cursor } = runQuery(parse("| sort -n | offset 2 | limit 4 | { _rmx_id, n }"), docs);
    expect(documents).toStrictEqual([
      { _rmx_id: "id14", n: 4 },
      { _rmx_id: "id19", n: 4 },
      { _rmx_id: "id24", n: 4 },
      { _rmx_id: "id29", n: 4 },
    ]);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("pages with cursors through every document exactly once, for any sort", () => {
    const sortArb = fc.array(
      fc.record(
        {
          path: fc.constantFrom<string[]>(["n"], ["variant"], ["_rmx_type"]),
          order: fc.constantFrom("asc" as const, "desc" as const),
        },
        { noNullPrototype: true },
      ),
      { maxLength: 3 },
    );
    fc.assert(
      fc.property(sortArb, fc.integer({ min: 1, max: 7 }), (sort, limit) => {
        const base: Query = sort.length ? { sort } : {};
        const all = runQuery(base, docs).documents.map((d) => d._rmx_id);
        const seen: unknown[] = [];
        let after: string | undefined;
        for (let page = 0; page < 40; page++) {
          const r = runQuery({ ...base, limit, ...(after && { after }) }, docs);
          seen.push(...r.documents.map((d) => d._rmx_id));
          if (!r.cursor) break;
          after = r.cursor;
        }
        expect(seen).toStrictEqual(all);
      }),
      { numRuns: 200 },
    );
  });

  it("rejects a cursor made for another sort, or a forged one, with a typed error", () => {
    const { cursor } = runQuery(parse("| sort n | limit 2"), docs);
    expect(() => runQuery({ sort: [{ path: ["variant"], order: "asc" }], after: cursor! }, docs)).toThrow(
      QueryCursorError,
    );
    expect(() => runQuery({ after: "!!" }, docs)).toThrow(QueryCursorError);
    expect(() => runQuery({ after: "AAAA" }, docs)).toThrow(QueryCursorError);
  });
});

describe("plan", () => {
  it("uses the _rmx_type index for the client's query and keeps the rest as residual", () => {
    const p = plan(parse('_rmx_type == "executable_cross" && variant == "WASM"'), []);
    expect(p).toMatchObject({ kind: "index", field: "_rmx_type", residual: { op: "==", path: ["variant"] } });
    expect(p.kind === "index" && p.ranges.length).toBe(1);
  });

  it("prefers a declared field's equality, intersects ranges, and scans what it cannot answer", () => {
    expect(plan(parse('_rmx_type == "a" && name == "b"'), ["name"])).toMatchObject({
      kind: "index",
      field: "name",
    });
    const range = plan(parse("n > 1 && n <= 4 && x == 1"), ["n"]);
    expect(range).toMatchObject({ kind: "index", field: "n", residual: { op: "==", path: ["x"] } });
    expect(range.kind === "index" && range.ranges.length).toBe(1);
    expect(plan(parse("n == 1 && n == 2"), ["n"])).toMatchObject({ kind: "index", ranges: [] });
    for (const q of ["n != 1", "n == 1 || m == 2", "!(n == 1)", "tags contains 1", "n exists", "m == 1"]) {
      expect(plan(parse(q), ["n"]).kind, q).toBe("scan");
    }
    expect(plan({}, ["n"])).toStrictEqual({ kind: "scan" });
  });
});
