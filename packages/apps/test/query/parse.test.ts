import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  fromAst,
  parse,
  print,
  QUERY_LIMITS,
  QueryAstError,
  QueryAstSchema,
  QueryError,
  QueryLimitError,
  QuerySyntaxError,
} from "../../src/query/index.js";
import { queryArb } from "./arbitraries.js";

describe("parse", () => {
  it("accepts the query real clients send", () => {
    expect(parse('_rmx_type == "executable_cross" && variant == "WASM" | { dataRef }')).toStrictEqual({
      filter: {
        op: "and",
        args: [
          { op: "==", path: ["_rmx_type"], value: "executable_cross" },
          { op: "==", path: ["variant"], value: "WASM" },
        ],
      },
      project: [{ path: ["dataRef"] }],
    });
  });

  it("parses every construct of the grammar", () => {
    const q = parse(
      "a.b.0 in [1, 2n, {ref}'x', #A(#B), null, true] || !(x startsWith \"a\\n\\u00e9\") && `odd key`.y exists && n >= -1.5e3 && t contains false" +
        ' | { a, b.c, x: y } | sort -modified, +name | after "AQ" | limit 10 | offset 20',
    );
    expect(q).toStrictEqual({
      filter: {
        op: "or",
        args: [
          {
            op: "in",
            path: ["a", "b", "0"],
            values: [
              1,
              { $int64: "2" },
              { $tagged: "ref", value: "x" },
              { $case: "A", arg: { $case: "B" } },
              null,
              true,
            ],
          },
          {
            op: "and",
            args: [
              { op: "not", arg: { op: "startsWith", path: ["x"], value: "a\né" } },
              { op: "exists", path: ["odd key", "y"] },
              { op: ">=", path: ["n"], value: -1500 },
              { op: "contains", path: ["t"], value: false },
            ],
          },
        ],
      },
      project: [{ path: ["a"] }, { path: ["b", "c"] }, { path: ["y"], as: "x" }],
      sort: [
        { path: ["modified"], order: "desc" },
        { path: ["name"], order: "asc" },
      ],
      after: "AQ",
      limit: 10,
      offset: 20,
    });
  });

  it("keeps explicit grouping and binds && tighter than ||", () => {
    expect(parse("a == 1 || b == 2 && c == 3").filter?.op).toBe("or");
    expect(parse("(a == 1 || b == 2) && c == 3").filter?.op).toBe("and");
    expect(parse("(a == 1 && b == 2) && c == 3").filter).toStrictEqual({
      op: "and",
      args: [
        {
          op: "and",
          args: [
            { op: "==", path: ["a"], value: 1 },
            { op: "==", path: ["b"], value: 2 },
          ],
        },
        { op: "==", path: ["c"], value: 3 },
      ],
    });
  });

  it("accepts an empty filter and stages only", () => {
    expect(parse("")).toStrictEqual({});
    expect(parse("  | limit 5")).toStrictEqual({ limit: 5 });
  });

  it.each([
    ["a == ", "a value after '=='", 1, 6, "end of query"],
    ["a = 1", "'=='", 1, 3, "'='"],
    ["a == 1 b == 2", "'&&', '||', '|' or end of query", 1, 8, "'b'"],
    ["a == 1 &&\n  == 2", "a field name, '!' or '('", 2, 3, "'=='"],
    ['a == "open', 'a closing "', 1, 6, "end of query"],
    ["a < true", "a number or string after '<' (ranges compare within one kind)", 1, 5, "'true'"],
    ["(a == 1", "')' or '&&' or '||'", 1, 8, "end of query"],
    ["a in 1", "'[' after 'in'", 1, 6, "'1'"],
    ["a in [1 2]", "',' or ']'", 1, 9, "'2'"],
    ["a exists | sort", "a field name to sort by", 1, 16, "end of query"],
    ["a exists | limit -1", "a whole number after 'limit'", 1, 18, "'-1'"],
    ["a exists | limit 1 | limit 2", "at most one 'limit'", 1, 22, "'limit'"],
    ["a exists | { a, a.b }", "a field that does not overlap an earlier one", 1, 17, "'a'"],
    ["a exists | { x.y: z }", "',' or '}' (an output name before ':' is a single name)", 1, 17, "':'"],
    ["a exists | drop", "a projection '{', 'sort', 'limit', 'offset' or 'after' after '|'", 1, 12, "'drop'"],
    ["a == 1e999", "a finite number", 1, 6, "'1e999'"],
    ["a == 99999999999999999999n", "an integer in the int64 range", 1, 6, "'99999999999999999999'"],
    ["a == 'x\\q'", "an escape (\\\" \\' \\` \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", 1, 8, "'\\q'"],
    ["a == {ref}x", "a string after '{ref}'", 1, 11, "'x'"],
    ["a ~ 1", "a field, value or operator", 1, 3, "'~'"],
    ["a == 1 | { b } garbage", "'|' or end of query", 1, 16, "'garbage'"],
  ])("rejects %j with position and expectation", (source, expected, line, column, found) => {
    let error: unknown;
    try {
      parse(source);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(QuerySyntaxError);
    const e = error as QuerySyntaxError;
    expect({
      expected: e.expected,
      line: e.line,
      column: e.column,
      found: e.found,
      code: e.code,
    }).toStrictEqual({
      expected,
      line,
      column,
      found,
      code: "query_syntax",
    });
    expect(e.message).toBe(`expected ${expected} at line ${line}, column ${column} (found ${found})`);
  });

  it("rejects a 100 KB query quickly, before reading it", () => {
    const huge = `a == "${"x".repeat(100_000)}"`;
    const t0 = performance.now();
    expect(() => parse(huge)).toThrow(QueryLimitError);
    expect(performance.now() - t0).toBeLessThan(50);
  });

  it("rejects deep nesting with a typed error, never a RangeError", () => {
    for (const source of [
      `${"(".repeat(8000)}a == 1${")".repeat(8000)}`,
      `${"!".repeat(8000)}a == 1`,
      `a == ${"#A(".repeat(5000)}1${")".repeat(5000)}`,
    ]) {
      expect(() => parse(source)).toThrow(QueryLimitError);
    }
    const ok = `${"!(".repeat(QUERY_LIMITS.maxDepth - 1)}a == 1${")".repeat(QUERY_LIMITS.maxDepth - 1)}`;
    expect(parse(ok).filter?.op).toBe("not");
  });

  it("limits the size of an in list", () => {
    const list = (n: number) => `a in [${Array.from({ length: n }, (_, i) => i).join(",")}]`;
    expect(() => parse(list(QUERY_LIMITS.maxInList))).not.toThrow();
    expect(() => parse(list(QUERY_LIMITS.maxInList + 1))).toThrow(QueryLimitError);
  });

  it("only ever throws QueryError, and quickly, on arbitrary input", () => {
    const alphabet = fc.constantFrom(
      ..."ab. =!<>&|()[]{}#:,-\"'`\\n0123456789 in exists sort limit".split(""),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: alphabet, maxLength: 60 }), fc.string({ maxLength: 60 })),
        (s) => {
          try {
            const q = parse(s);
            expect(QueryAstSchema.safeParse(q).success).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(QueryError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe("print", () => {
  it("prints the canonical form", () => {
    expect(print(parse("a==1&&(b=='x'||!c exists)|limit 3|{ z }"))).toBe(
      'a == 1 && (b == "x" || !(c exists)) | { z } | limit 3',
    );
    expect(print(parse("`1st`.2nd == -0 && x == 12n"))).toBe("`1st`.2nd == -0 && x == 12n");
  });

  it("parse(print(ast)) equals ast, and every generated AST is valid", () => {
    fc.assert(
      fc.property(queryArb, (q) => {
        expect(QueryAstSchema.safeParse(q).success).toBe(true);
        expect(parse(print(q))).toStrictEqual(q);
      }),
      { numRuns: 2000 },
    );
  });

  it("print(parse(s)) is a fixed point", () => {
    fc.assert(
      fc.property(queryArb, (q) => {
        const s = print(parse(print(q)));
        expect(print(parse(s))).toBe(s);
      }),
      { numRuns: 500 },
    );
  });
});

describe("fromAst", () => {
  it("returns a valid AST unchanged", () => {
    fc.assert(
      fc.property(queryArb, (q) => {
        expect(fromAst(JSON.parse(JSON.stringify(q)))).toStrictEqual(JSON.parse(JSON.stringify(q)));
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    [{ filter: { op: "==", path: [], value: 1 } }, "filter.path"],
    [{ filter: { op: "<", path: ["a"], value: true } }, "filter.value"],
    [{ filter: { op: "and", args: [{ op: "exists", path: ["a"] }] } }, "filter.args"],
    [{ filter: { op: "like", path: ["a"] } }, "filter.op"],
    [{ limit: -1 }, "limit"],
    [{ limit: 1.5 }, "limit"],
    [{ extra: true }, ""],
    [{ project: [{ path: ["a"] }, { path: ["a", "b"] }] }, "project.1"],
    [{ filter: { op: "==", path: ["a"], value: { $int64: "1.5" } } }, "filter.value.$int64"],
    ["a == 1", ""],
  ])("rejects %j with a typed error naming %s", (json, where) => {
    let error: unknown;
    try {
      fromAst(json);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(QueryAstError);
    expect((error as QueryAstError).code).toBe("query_invalid_ast");
    expect((error as QueryAstError).issues.map((i) => i.path)).toContain(where);
  });

  it("rejects deep and huge JSON without overflowing the stack", () => {
    let deep: unknown = { op: "exists", path: ["a"] };
    for (let i = 0; i < 100_000; i++) deep = { op: "not", arg: deep };
    expect(() => fromAst({ filter: deep })).toThrow(QueryLimitError);
    let justTooDeep: unknown = { op: "exists", path: ["a"] };
    for (let i = 0; i < QUERY_LIMITS.maxDepth; i++) justTooDeep = { op: "not", arg: justTooDeep };
    expect(() => fromAst({ filter: justTooDeep })).toThrow(QueryAstError);
    const wide = { filter: { op: "in", path: ["a"], values: Array.from({ length: 100_000 }, () => 1) } };
    expect(() => fromAst(wide)).toThrow(QueryLimitError);
  });
});
