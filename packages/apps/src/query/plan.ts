import type { MixMap } from "@amp/codec";
import type { Expr, Literal, Path, Query } from "./ast.js";
import { Rank } from "./compare.js";
import {
  compareKeys,
  encodeKey,
  indexKey,
  MAX_INDEX_KEY_BYTES,
  prefixSuccessor,
  rankPrefix,
  stringPrefixKey,
} from "./key.js";
import { literalToMix, valueAt } from "./literal.js";

/** The field every app indexes. */
export const TYPE_FIELD = "_rmx_type";

export interface KeyBound {
  readonly key: Uint8Array;
  readonly inclusive: boolean;
}

/** Index keys between two bounds (compared with memcmp); an absent bound is open. A point has equal inclusive bounds. */
export interface IndexRange {
  readonly lower?: KeyBound;
  readonly upper?: KeyBound;
}

/**
 * How to run a filter.
 * - `scan`: read every document and apply `filter`.
 * - `index`: read the documents whose index key for `field` (see `indexKey`) lies in
 *   one of `ranges` (sorted, disjoint; empty means no document can match), then apply
 *   `residual` (absent: nothing left to check). The result equals the scan's.
 */
export type Plan =
  | { readonly kind: "scan"; readonly filter?: Expr }
  | {
      readonly kind: "index";
      /** The indexed field as declared, e.g. "meta.size". */
      readonly field: string;
      readonly path: Path;
      readonly ranges: readonly IndexRange[];
      readonly residual?: Expr;
    };

/** The path of a declared (dotted) index field. */
export function fieldPath(field: string): Path {
  return field.split(".");
}

/** The index entry of a document for a field, or undefined when it has none (the field is missing). */
export function documentIndexKey(doc: MixMap, field: string): Uint8Array | undefined {
  return indexKey(valueAt(doc, fieldPath(field)));
}

/**
 * Byte bounds for LMDB's `getRange({start, end})`: `start` inclusive, `end` exclusive,
 * absent means open. Right whether the table's key is the index key alone (dupSort)
 * or the index key followed by more bytes (index keys are prefix-free).
 */
export function keyBounds(range: IndexRange): { start?: Uint8Array; end?: Uint8Array } {
  const start = range.lower && (range.lower.inclusive ? range.lower.key : prefixSuccessor(range.lower.key));
  const end = range.upper && (range.upper.inclusive ? prefixSuccessor(range.upper.key) : range.upper.key);
  return { ...(start && { start }), ...(end && { end }) };
}

interface Candidate {
  readonly field: string;
  readonly path: Path;
  ranges: IndexRange[];
  readonly used: Set<Expr>;
}

/**
 * Chooses an index for a query's filter. It looks at the top-level `&&` terms:
 * `==`, `in`, ranges and `startsWith` on an indexed field (always `_rmx_type`) become
 * key ranges, several terms on one field intersect. The field with the most selective
 * ranges wins (points over ranges, fewer points first, then a declared field over
 * `_rmx_type`); everything else is the residual. `!=`, `!`, `||`, `contains`, `exists`
 * and terms whose literal key would not be exact leave the filter to a scan.
 */
export function plan(query: Query, indexedFields: readonly string[]): Plan {
  const filter = query.filter;
  if (!filter) return { kind: "scan" };
  const fields = [...new Set([...indexedFields, TYPE_FIELD])];
  const terms = conjuncts(filter);
  let best: { candidate: Candidate; score: number } | undefined;
  for (const field of fields) {
    const path = fieldPath(field);
    const candidate: Candidate = { field, path, ranges: [{}], used: new Set() };
    for (const term of terms) {
      if (!("path" in term) || !samePath(term.path, path)) continue;
      const ranges = termRanges(term);
      if (!ranges) continue;
      candidate.ranges = intersectAll(candidate.ranges, ranges);
      candidate.used.add(term);
    }
    if (candidate.used.size === 0) continue;
    const score = selectivity(candidate.ranges) + (field === TYPE_FIELD ? 0 : 0.5);
    if (!best || score > best.score) best = { candidate, score };
  }
  if (!best) return { kind: "scan", filter };
  const { field, path, ranges, used } = best.candidate;
  const rest = terms.filter((t) => !used.has(t));
  const residual =
    rest.length === 0 ? undefined : rest.length === 1 ? rest[0]! : { op: "and" as const, args: rest };
  return { kind: "index", field, path, ranges, ...(residual && { residual }) };
}

function conjuncts(e: Expr): Expr[] {
  return e.op === "and" ? e.args.flatMap(conjuncts) : [e];
}

function samePath(a: Path, b: Path): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** Higher is better: a few points beat any range, a closed range beats a half-open one. */
function selectivity(ranges: readonly IndexRange[]): number {
  if (ranges.length === 0) return 1000;
  if (ranges.every(isPoint)) return 100 - Math.min(ranges.length, 99);
  return ranges.every((r) => r.lower && r.upper) ? 10 : 5;
}

function isPoint(r: IndexRange): boolean {
  return (
    !!r.lower &&
    !!r.upper &&
    r.lower.inclusive &&
    r.upper.inclusive &&
    compareKeys(r.lower.key, r.upper.key) === 0
  );
}

/** The key ranges a term selects exactly, or undefined when the index cannot answer it. */
function termRanges(term: Expr): IndexRange[] | undefined {
  switch (term.op) {
    case "==":
      return points([term.value]);
    case "in":
      return points(term.values);
    case "<":
    case "<=":
    case ">":
    case ">=": {
      const value = literalToMix(term.value);
      const { key, exact } = encodeKey(value);
      if (!exact) return undefined;
      const rank = typeof value === "string" ? Rank.String : Rank.Number;
      const kindStart: KeyBound = { key: rankPrefix(rank), inclusive: true };
      const kindEnd: KeyBound = { key: rankPrefix((rank + 1) as Rank), inclusive: false };
      const bound: KeyBound = { key, inclusive: term.op.length === 2 };
      return [term.op[0] === "<" ? { lower: kindStart, upper: bound } : { lower: bound, upper: kindEnd }];
    }
    case "startsWith": {
      const last = term.value.charCodeAt(term.value.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) return undefined; // a pair could straddle the end
      const prefix = stringPrefixKey(term.value);
      if (prefix.length > MAX_INDEX_KEY_BYTES) return undefined;
      const end = prefixSuccessor(prefix);
      return [
        { lower: { key: prefix, inclusive: true }, ...(end && { upper: { key: end, inclusive: false } }) },
      ];
    }
    default:
      return undefined;
  }
}

function points(literals: readonly Literal[]): IndexRange[] | undefined {
  const keys: Uint8Array[] = [];
  for (const l of literals) {
    const { key, exact } = encodeKey(literalToMix(l));
    if (!exact) return undefined;
    keys.push(key);
  }
  keys.sort(compareKeys);
  return keys
    .filter((k, i) => i === 0 || compareKeys(k, keys[i - 1]!) !== 0)
    .map((key) => ({ lower: { key, inclusive: true }, upper: { key, inclusive: true } }));
}

/** Intersection of two sorted lists of disjoint ranges. */
function intersectAll(a: readonly IndexRange[], b: readonly IndexRange[]): IndexRange[] {
  const out: IndexRange[] = [];
  for (const x of a) {
    for (const y of b) {
      const r = intersect(x, y);
      if (r) out.push(r);
    }
  }
  return out;
}

function intersect(x: IndexRange, y: IndexRange): IndexRange | undefined {
  const lower = tighter(x.lower, y.lower, 1);
  const upper = tighter(x.upper, y.upper, -1);
  if (lower && upper) {
    const c = compareKeys(lower.key, upper.key);
    if (c > 0 || (c === 0 && !(lower.inclusive && upper.inclusive))) return undefined;
  }
  return { ...(lower && { lower }), ...(upper && { upper }) };
}

/** The stricter of two bounds: the larger lower bound (`dir` 1) or the smaller upper bound (`dir` -1). */
function tighter(a: KeyBound | undefined, b: KeyBound | undefined, dir: 1 | -1): KeyBound | undefined {
  if (!a) return b;
  if (!b) return a;
  const c = compareKeys(a.key, b.key) * dir;
  if (c !== 0) return c > 0 ? a : b;
  return a.inclusive ? b : a;
}
