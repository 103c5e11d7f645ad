import { MixCase, type MixMap, type MixValue, TaggedString } from "@amp/codec";
import fc from "fast-check";
import { projectionCollision } from "../../src/query/ast.js";
import type { Expr, Literal, Path, ProjectionField, Query, SortKey } from "../../src/query/index.js";
import { checkDocument, DEFAULT_DOCUMENT_LIMITS } from "../../src/store/document.js";

/** fc.record with ordinary prototypes, so results compare equal to parsed ASTs. */
const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true });

/** Any UTF-16 string, lone surrogates and control characters included. */
export const anyString = (maxLength = 6): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength }),
    fc.string({ unit: "binary", maxLength }),
  );

const identifier = fc.stringMatching(/^[A-Za-z_$][A-Za-z0-9_$]{0,4}$/);
const segment = fc.oneof(
  fc.constantFrom("a", "b", "_rmx_type", "in", "true", "sort", "limit", "0", "12", "x y", "a.b", ""),
  identifier,
  anyString(4),
);
export const pathArb: fc.Arbitrary<Path> = fc.array(segment, { minLength: 1, maxLength: 3 });

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((b) => ({ $int64: b.toString() }));
const finiteNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constant(-0),
);

export const literalArb: fc.Arbitrary<Literal> = fc.letrec<{ literal: Literal }>((tie) => ({
  literal: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    anyString(),
    finiteNumber,
    fc.boolean(),
    fc.constant(null),
    int64,
    rec({ $tagged: identifier, value: anyString() }),
    fc.oneof(
      identifier.map(($case) => ({ $case })),
      rec({ $case: identifier, arg: tie("literal") }),
    ),
  ),
})).literal;

const rangeLiteral = fc.oneof(anyString(), finiteNumber, int64);

export const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", withCrossShrink: true, maxDepth: 5 },
    rec({ op: fc.constantFrom("==" as const, "!=" as const), path: pathArb, value: literalArb }),
    rec({
      op: fc.constantFrom("<" as const, "<=" as const, ">" as const, ">=" as const),
      path: pathArb,
      value: rangeLiteral,
    }),
    rec({ op: fc.constant("in" as const), path: pathArb, values: fc.array(literalArb, { maxLength: 4 }) }),
    rec({ op: fc.constant("contains" as const), path: pathArb, value: literalArb }),
    rec({ op: fc.constant("startsWith" as const), path: pathArb, value: anyString() }),
    rec({ op: fc.constant("exists" as const), path: pathArb }),
    rec({ op: fc.constant("not" as const), arg: tie("expr") }),
    rec({
      op: fc.constantFrom("and" as const, "or" as const),
      args: fc.array(tie("expr"), { minLength: 2, maxLength: 3 }),
    }),
  ),
})).expr;

const projectionArb: fc.Arbitrary<ProjectionField[]> = fc
  .array(fc.oneof(rec({ path: pathArb }), rec({ path: pathArb, as: segment })), {
    minLength: 1,
    maxLength: 4,
  })
  .filter((p) => projectionCollision(p) === undefined);
const sortArb: fc.Arbitrary<SortKey[]> = fc.array(
  rec({ path: pathArb, order: fc.constantFrom("asc" as const, "desc" as const) }),
  {
    minLength: 1,
    maxLength: 3,
  },
);

export const queryArb: fc.Arbitrary<Query> = fc.record(
  {
    filter: exprArb,
    project: projectionArb,
    sort: sortArb,
    after: anyString(8),
    offset: fc.nat({ max: 1000 }),
    limit: fc.nat({ max: 1000 }),
  },
  { requiredKeys: [], noNullPrototype: true },
);

/** Any Mix value a document may hold (no tokens/opaque/handles: they never reach the store). */
export const mixValueArb: fc.Arbitrary<MixValue> = fc.letrec<{ value: MixValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 3 },
    anyString(),
    fc.double(),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.constantFrom(0, -0, 1, 2 ** 53, 2 ** 63, -(2 ** 63), Number.NaN, Number.POSITIVE_INFINITY),
    fc.constantFrom(2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 1n, 0n),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 4 }),
    rec({ tag: fc.constantFrom("ref", "x"), value: anyString() }).map(
      (t) => new TaggedString(t.tag, t.value),
    ),
    rec({ name: fc.constantFrom("A", "B"), arg: fc.option(tie("value"), { nil: undefined }) }).map(
      (c) => new MixCase(c.name, c.arg),
    ),
    fc.array(tie("value"), { maxLength: 3 }),
    fc
      .dictionary(fc.constantFrom("a", "b", "é", ""), tie("value"), { maxKeys: 3 })
      .map((d) => ({ ...d }) as MixMap),
  ),
})).value;

/**
 * Batches of documents a store accepts (the value arbitrary can produce lone surrogates, which
 * it refuses), with fields `a`, `b` and `c.d` of mixed types for queries to meet. `mixedB` lets
 * `b` take any Mix value too.
 */
export function storedDocsArb(options: { maxLength: number; mixedB?: boolean }) {
  const b = options.mixedB
    ? fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom("x", "y"), mixValueArb)
    : fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom("x", "y"));
  return fc
    .array(
      fc.record(
        {
          _rmx_type: fc.constantFrom("note", "task"),
          a: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom("", "a", "ab", "b"), mixValueArb),
          b,
          c: fc.record({ d: fc.oneof(fc.boolean(), fc.constantFrom("a", "b")) }, { noNullPrototype: true }),
        },
        { requiredKeys: ["_rmx_type"], noNullPrototype: true },
      ),
      { maxLength: options.maxLength },
    )
    .filter((docs) => docs.every(storable));
}

function storable(doc: object): boolean {
  try {
    checkDocument(doc, DEFAULT_DOCUMENT_LIMITS);
    return true;
  } catch {
    return false;
  }
}
