import fc from "fast-check";
import {
  MixCase,
  MixHandle,
  type MixMap,
  MixOpaque,
  MixToken,
  type MixValue,
  TaggedString,
} from "../src/index.js";

/** Well-formed Unicode (lone surrogates cannot survive UTF-8), including astral characters. */
export const mixString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme-ascii", maxLength: 20 }),
  fc.constantFrom("", "_rmx_type", "_rmx_value", "__proto__", "{ref}x", "{tag}nan", "héllo wörld ✓ 𝄞"),
);

/** A tag may not contain "}" (the first "}" ends it); it may carry an annotation after ":". */
export const mixTag = fc.oneof(
  fc.constantFrom("ref", "ref:doc", "str", "nan", "bin", "case", "case:x", "handle", "tag", "undefined", "x"),
  fc.string({ unit: "grapheme-ascii", maxLength: 8 }).filter((t) => !t.includes("}")),
);

export const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });

const scalar = (negativeZero: boolean): fc.Arbitrary<MixValue> =>
  fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.boolean(),
    fc.double().filter((x) => negativeZero || !Object.is(x, -0)),
    fc.constantFrom(
      0,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      1.5,
      2 ** 53,
      negativeZero ? -0 : 0,
    ),
    fc.integer(),
    int64,
    mixString,
    fc.tuple(mixTag, mixString).map(([t, v]) => new TaggedString(t, v)),
    fc.uint8Array({ maxLength: 40 }),
    fc.uint32Array({ maxLength: 4 }).map((w) => new MixOpaque(w)),
    fc.uint32Array({ minLength: 1, maxLength: 2 }).map((w) => new MixHandle(w)),
  );

export interface MixArbitraryOptions {
  /**
   * Only values JSON text can carry: no -0 (JSON.stringify writes 0) and no
   * case named "db.ref" (that is how refs travel).
   */
  json?: boolean;
}

/** Any Mix value, nested up to a few levels. */
export function mixValue(options: MixArbitraryOptions = {}): fc.Arbitrary<MixValue> {
  const json = options.json ?? false;
  const caseName = json ? mixString.filter((n) => n !== "db.ref") : mixString;
  const { value } = fc.letrec<{ value: MixValue; map: MixMap }>((tie) => ({
    value: fc.oneof(
      { maxDepth: 4, depthIdentifier: "mix" },
      { arbitrary: scalar(!json), weight: 6 },
      { arbitrary: fc.array(tie("value"), { maxLength: 6 }), weight: 2 },
      { arbitrary: tie("map"), weight: 2 },
      { arbitrary: fc.tuple(caseName, tie("value")).map(([n, a]) => new MixCase(n, a)), weight: 1 },
      {
        arbitrary: fc
          .tuple(fc.nat({ max: 0xffffffff }), fc.uint8Array({ maxLength: 24 }), tie("map"))
          .map(([ops, data, extras]) => new MixToken(ops, data, extras as MixMap)),
        weight: 1,
      },
    ),
    map: fc.dictionary(mixString, tie("value"), {
      maxKeys: 6,
      noNullPrototype: true,
    }) as fc.Arbitrary<MixMap>,
  }));
  return value;
}

/** A large value: long strings, big binary and wide arrays and maps. */
export const largeMixValue = (options: MixArbitraryOptions = {}): fc.Arbitrary<MixValue> =>
  fc.oneof(
    fc.string({ unit: "binary", minLength: 1000, maxLength: 5000 }),
    fc.uint8Array({ minLength: 10_000, maxLength: 70_000 }),
    fc.array(
      fc.double().filter((x) => !options.json || !Object.is(x, -0)),
      { minLength: 1000, maxLength: 3000 },
    ),
    fc.dictionary(fc.string({ maxLength: 12 }), fc.integer(), {
      minKeys: 500,
      maxKeys: 1500,
      noNullPrototype: true,
    }),
  );
