import type { MixMap, MixValue } from "@amp/codec";
import type { Expr } from "./ast.js";
import { compareMix, rankOf } from "./compare.js";
import { literalToMix, valueAt } from "./literal.js";

/** A compiled filter: true when the document matches. */
export type DocumentFilter = (doc: MixMap) => boolean;

const matchAll: DocumentFilter = () => true;

/**
 * Compiles a filter (from `parse` or `fromAst`) to a predicate. No filter matches everything.
 * Semantics (docs/query-language.md): a missing field equals nothing, so `==`, ranges,
 * `in`, `contains` and `startsWith` are false on it and `!=` is true; `a != v` is exactly
 * `!(a == v)`; values of different kinds are never equal and ranges only hold within
 * a kind; `==` on an array compares the whole array, `contains` looks inside.
 */
export function compileFilter(expr: Expr | undefined): DocumentFilter {
  return expr ? compile(expr) : matchAll;
}

function compile(e: Expr): DocumentFilter {
  switch (e.op) {
    case "and": {
      const parts = e.args.map(compile);
      return (doc) => parts.every((p) => p(doc));
    }
    case "or": {
      const parts = e.args.map(compile);
      return (doc) => parts.some((p) => p(doc));
    }
    case "not": {
      const inner = compile(e.arg);
      return (doc) => !inner(doc);
    }
    case "exists":
      return (doc) => valueAt(doc, e.path) !== undefined;
    case "startsWith":
      return (doc) => {
        const v = valueAt(doc, e.path);
        return typeof v === "string" && v.startsWith(e.value);
      };
    case "contains": {
      const want = literalToMix(e.value);
      return (doc) => {
        const v = valueAt(doc, e.path);
        return Array.isArray(v) && v.some((item) => equals(item, want));
      };
    }
    case "in": {
      const wanted = e.values.map(literalToMix);
      const strings = new Set(wanted.filter((w) => typeof w === "string"));
      const others = wanted.filter((w) => typeof w !== "string");
      return (doc) => {
        const v = valueAt(doc, e.path);
        return typeof v === "string" ? strings.has(v) : others.some((w) => equals(v, w));
      };
    }
    case "==":
    case "!=": {
      const want = literalToMix(e.value);
      const negate = e.op === "!=";
      return (doc) => equals(valueAt(doc, e.path), want) !== negate;
    }
    default: {
      const want = literalToMix(e.value);
      const rank = rankOf(want);
      const test = RANGE_TESTS[e.op];
      return (doc) => {
        const v = valueAt(doc, e.path);
        return v !== undefined && rankOf(v) === rank && test(compareMix(v, want));
      };
    }
  }
}

const RANGE_TESTS: Record<"<" | "<=" | ">" | ">=", (c: number) => boolean> = {
  "<": (c) => c < 0,
  "<=": (c) => c <= 0,
  ">": (c) => c > 0,
  ">=": (c) => c >= 0,
};

/** Query equality: same kind and equal in the total order (so 1 == 1n and 0 == -0); missing equals nothing. */
function equals(v: MixValue, want: MixValue): boolean {
  return v !== undefined && compareMix(v, want) === 0;
}
