import {
  MixCase,
  MixHandle,
  type MixMap,
  MixOpaque,
  MixToken,
  type MixValue,
  TaggedString,
} from "@amp/codec";

/**
 * The total order over Mix values used by sort, ranges and index keys.
 *
 * Kinds first, in this rank order (close to MongoDB's BSON order):
 *   missing/undefined < null < numbers < strings < tagged < maps < arrays
 *   < binary < booleans < cases < tokens < opaque < handles.
 * Within a kind:
 * - numbers: f64 and int64 are one kind, compared by exact mathematical value
 *   (3 == 3n, -0 == 0); NaN equals NaN and sorts below every other number;
 * - strings: by Unicode code point (the order of their UTF-8 bytes), a lone
 *   surrogate counting as its code unit;
 * - tagged: by tag, then value; cases: by name, then argument (no argument first);
 * - maps: entries sorted by key, compared entry by entry (key, then value), fewer entries first;
 * - arrays, binary, opaque and handle words: element by element, shorter first;
 * - booleans: false < true; tokens: enabled ops, then data, then extras.
 * Values nested deeper than `MAX_COMPARE_DEPTH` compare equal, so the order stays
 * total (a preorder on truncated values) and no input can overflow the stack.
 */
export const MAX_COMPARE_DEPTH = 64;

/** Kind ranks: the first level of the order, and the first byte of an index key. */
export const Rank = {
  Missing: 0,
  Null: 1,
  Number: 2,
  String: 3,
  Tagged: 4,
  Map: 5,
  Array: 6,
  Binary: 7,
  Bool: 8,
  Case: 9,
  Token: 10,
  Opaque: 11,
  Handle: 12,
} as const;
export type Rank = (typeof Rank)[keyof typeof Rank];

export function rankOf(v: MixValue): Rank {
  switch (typeof v) {
    case "undefined":
      return Rank.Missing;
    case "number":
    case "bigint":
      return Rank.Number;
    case "string":
      return Rank.String;
    case "boolean":
      return Rank.Bool;
  }
  if (v === null) return Rank.Null;
  if (Array.isArray(v)) return Rank.Array;
  if (v instanceof Uint8Array) return Rank.Binary;
  if (v instanceof TaggedString) return Rank.Tagged;
  if (v instanceof MixCase) return Rank.Case;
  if (v instanceof MixToken) return Rank.Token;
  if (v instanceof MixOpaque) return Rank.Opaque;
  if (v instanceof MixHandle) return Rank.Handle;
  return Rank.Map;
}

const sign = (x: number): number => (x < 0 ? -1 : x > 0 ? 1 : 0);

/** Compares two Mix values in the total order above: -1, 0 or 1. */
export function compareMix(a: MixValue, b: MixValue): number {
  return compareAt(a, b, 0);
}

function compareAt(a: MixValue, b: MixValue, depth: number): number {
  const ra = rankOf(a);
  const rb = rankOf(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (depth > MAX_COMPARE_DEPTH) return 0;
  switch (ra) {
    case Rank.Missing:
    case Rank.Null:
      return 0;
    case Rank.Number:
      return compareNumbers(a as number | bigint, b as number | bigint);
    case Rank.String:
      return compareStrings(a as string, b as string);
    case Rank.Bool:
      return a === b ? 0 : a ? 1 : -1;
    case Rank.Tagged: {
      const x = a as TaggedString;
      const y = b as TaggedString;
      return compareStrings(x.tag, y.tag) || compareStrings(x.value, y.value);
    }
    case Rank.Map:
      return compareMaps(a as MixMap, b as MixMap, depth);
    case Rank.Array:
      return compareSequences(a as MixValue[], b as MixValue[], depth);
    case Rank.Binary:
      return compareWords(a as Uint8Array, b as Uint8Array);
    case Rank.Case: {
      const x = a as MixCase;
      const y = b as MixCase;
      return compareStrings(x.name, y.name) || compareAt(x.arg, y.arg, depth + 1);
    }
    case Rank.Token: {
      const x = a as MixToken;
      const y = b as MixToken;
      return (
        compareNumbers(x.enabledOps, y.enabledOps) ||
        compareWords(x.data, y.data) ||
        compareMaps(x.extras, y.extras, depth)
      );
    }
    default:
      return compareWords((a as MixOpaque | MixHandle).words, (b as MixOpaque | MixHandle).words);
  }
}

/** Exact comparison of f64 and int64 values; NaN is the smallest number. */
export function compareNumbers(a: number | bigint, b: number | bigint): number {
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "number" && typeof b === "number") {
    if (a < b) return -1;
    if (a > b) return 1;
    if (a === b) return 0; // also -0 vs +0
    return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : 1;
  }
  return typeof a === "number"
    ? numberVsBigint(a, b as bigint)
    : numberVsBigint(b as number, a as bigint) * -1 || 0;
}

function numberVsBigint(n: number, b: bigint): number {
  if (Number.isNaN(n) || n === Number.NEGATIVE_INFINITY) return -1;
  if (n === Number.POSITIVE_INFINITY) return 1;
  const floor = BigInt(Math.floor(n));
  if (floor < b) return -1;
  if (floor > b) return 1;
  return Number.isInteger(n) ? 0 : 1;
}

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;

/** Code point order (equal to UTF-8 byte order), not JS's UTF-16 code unit order. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  // Step back onto the start of a code point that a surrogate pair may straddle.
  if (i > 0 && i < n && isHighSurrogate(a.charCodeAt(i - 1))) i--;
  while (i < n) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
  }
  return sign(a.length - b.length);
}

function compareSequences(a: readonly MixValue[], b: readonly MixValue[], depth: number): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareAt(a[i], b[i], depth + 1);
    if (c !== 0) return c;
  }
  return sign(a.length - b.length);
}

function compareWords(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return sign(a.length - b.length);
}

/** Map keys in code point order: the order in which maps are compared and encoded. */
export function sortedKeys(m: MixMap): string[] {
  return Object.keys(m).sort(compareStrings);
}

function compareMaps(a: MixMap, b: MixMap, depth: number): number {
  const ka = sortedKeys(a);
  const kb = sortedKeys(b);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const c = compareStrings(ka[i]!, kb[i]!) || compareAt(a[ka[i]!], b[kb[i]!], depth + 1);
    if (c !== 0) return c;
  }
  return sign(ka.length - kb.length);
}
