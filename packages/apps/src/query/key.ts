import type { MixCase, MixHandle, MixMap, MixOpaque, MixToken, MixValue, TaggedString } from "@amp/codec";
import { MAX_COMPARE_DEPTH, Rank, rankOf, sortedKeys } from "./compare.js";

/**
 * Order-preserving binary keys for Mix values.
 *
 * `encodeKey(a)` vs `encodeKey(b)` compared byte by byte (memcmp, which is how
 * LMDB orders binary keys, and how lmdb-js passes a `Uint8Array` key through
 * ordered-binary untouched) gives the same answer as `compareMix(a, b)`.
 *
 * Layout: one rank byte (see `Rank` in compare.ts), then by kind:
 * - number/int64: 8 bytes of the nearest f64 (sign-flipped big-endian) and 4 bytes of
 *   the exact int64 remainder `value - nearest` (offset binary), so int64 and f64 mix exactly;
 *   NaN is (-Infinity, -1), below every other number; -0 is 0;
 * - string: WTF-8 bytes with 0x00 escaped as 0x00 0xFF, closed by 0x00 0x01;
 * - tagged: tag string, value string; case: name string, then the argument's key
 *   (a lone rank byte 0 when there is none);
 * - map: per entry in key order 0x01, key string, value key; then 0x00;
 * - array: per element 0x01, element key; then 0x00;
 * - binary, opaque and handle words (big-endian): escaped bytes closed by 0x00 0x01;
 * - bool: 0x00 or 0x01; token: enabled ops as a number, data, extras map.
 * Every encoding is prefix-free, so a key can be followed by other bytes (an id)
 * without changing the order.
 */
export const MAX_INDEX_KEY_BYTES = 1024;

class KeyFull extends Error {}

class KeyWriter {
  bytes = new Uint8Array(64);
  length = 0;
  constructor(private readonly limit: number) {}

  byte(b: number): void {
    if (this.length >= this.limit) throw new KeyFull();
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(Math.min(this.bytes.length * 2, this.limit));
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = b;
  }

  /** A byte of a terminated sequence: 0x00 is escaped so the terminator stays smallest. */
  escaped(b: number): void {
    this.byte(b);
    if (b === 0) this.byte(0xff);
  }

  end(): void {
    this.byte(0);
    this.byte(1);
  }

  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

const f64 = new DataView(new ArrayBuffer(8));
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function writeNumber(w: KeyWriter, v: number | bigint): void {
  let nearest: number;
  let remainder = 0;
  if (typeof v === "number") {
    if (Number.isNaN(v)) {
      nearest = Number.NEGATIVE_INFINITY;
      remainder = -1;
    } else nearest = v === 0 ? 0 : v;
  } else {
    nearest = Number(v);
    if (!Number.isFinite(nearest)) {
      // Beyond the f64 range (never an int64): clamp, keeping the order.
      remainder = nearest > 0 ? INT32_MAX : INT32_MIN;
      nearest = nearest > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
    } else {
      const diff = v - BigInt(nearest);
      remainder = Number(diff < -(2n ** 31n) ? -(2n ** 31n) : diff > 2n ** 31n - 1n ? 2n ** 31n - 1n : diff);
    }
  }
  f64.setFloat64(0, nearest);
  const negative = (f64.getUint8(0) & 0x80) !== 0;
  for (let i = 0; i < 8; i++) {
    const b = f64.getUint8(i);
    w.byte(negative ? ~b & 0xff : i === 0 ? b ^ 0x80 : b);
  }
  const offset = remainder - INT32_MIN; // 0 .. 2^32-1, big-endian
  w.byte((offset >>> 24) & 0xff);
  w.byte((offset >>> 16) & 0xff);
  w.byte((offset >>> 8) & 0xff);
  w.byte(offset & 0xff);
}

function writeString(w: KeyWriter, s: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.codePointAt(i)!;
    if (c < 0x80) w.escaped(c);
    else if (c < 0x800) {
      w.byte(0xc0 | (c >> 6));
      w.byte(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      // Lone surrogates too (WTF-8), so every JS string has a key.
      w.byte(0xe0 | (c >> 12));
      w.byte(0x80 | ((c >> 6) & 0x3f));
      w.byte(0x80 | (c & 0x3f));
    } else {
      i++;
      w.byte(0xf0 | (c >> 18));
      w.byte(0x80 | ((c >> 12) & 0x3f));
      w.byte(0x80 | ((c >> 6) & 0x3f));
      w.byte(0x80 | (c & 0x3f));
    }
  }
  w.end();
}

function writeWords(w: KeyWriter, words: Uint8Array | Uint32Array): void {
  if (words instanceof Uint8Array) for (const b of words) w.escaped(b);
  else
    for (const word of words) {
      w.escaped(word >>> 24);
      w.escaped((word >>> 16) & 0xff);
      w.escaped((word >>> 8) & 0xff);
      w.escaped(word & 0xff);
    }
  w.end();
}

function writeMapBody(w: KeyWriter, m: MixMap, depth: number): void {
  for (const k of sortedKeys(m)) {
    w.byte(1);
    writeString(w, k);
    writeValue(w, m[k], depth + 1);
  }
  w.byte(0);
}

function writeValue(w: KeyWriter, v: MixValue, depth: number): void {
  const rank = rankOf(v);
  w.byte(rank);
  // Mirrors compareMix: below the depth cap, values of one kind are equal.
  if (depth > MAX_COMPARE_DEPTH) return;
  switch (rank) {
    case Rank.Missing:
    case Rank.Null:
      break;
    case Rank.Number:
      writeNumber(w, v as number | bigint);
      break;
    case Rank.String:
      writeString(w, v as string);
      break;
    case Rank.Bool:
      w.byte(v ? 1 : 0);
      break;
    case Rank.Tagged:
      writeString(w, (v as TaggedString).tag);
      writeString(w, (v as TaggedString).value);
      break;
    case Rank.Map:
      writeMapBody(w, v as MixMap, depth);
      break;
    case Rank.Array:
      for (const e of v as MixValue[]) {
        w.byte(1);
        writeValue(w, e, depth + 1);
      }
      w.byte(0);
      break;
    case Rank.Binary:
      writeWords(w, v as Uint8Array);
      break;
    case Rank.Case:
      writeString(w, (v as MixCase).name);
      writeValue(w, (v as MixCase).arg, depth + 1);
      break;
    case Rank.Token: {
      const t = v as MixToken;
      writeNumber(w, t.enabledOps);
      writeWords(w, t.data);
      writeMapBody(w, t.extras, depth);
      break;
    }
    default:
      writeWords(w, (v as MixOpaque | MixHandle).words);
  }
}

/** An encoded key; `exact` is false when it was cut at `maxBytes`. */
export interface EncodedKey {
  readonly key: Uint8Array;
  readonly exact: boolean;
}

/**
 * Encodes any Mix value (missing included) as an order-preserving key of at most
 * `maxBytes`. A cut key still sorts consistently (it may tie with other cut keys),
 * and an exact key never ties with a cut one.
 */
export function encodeKey(value: MixValue, maxBytes = MAX_INDEX_KEY_BYTES): EncodedKey {
  const w = new KeyWriter(maxBytes);
  try {
    writeValue(w, value, 0);
    return { key: w.result(), exact: true };
  } catch (e) {
    if (!(e instanceof KeyFull)) throw e;
    return { key: w.result(), exact: false };
  }
}

/**
 * The index key of a field value: at most `MAX_INDEX_KEY_BYTES` bytes, or
 * `undefined` when the field is missing (missing fields are not indexed; no
 * equality or range filter matches them). Open LMDB index tables with
 * `keyEncoding: "binary"` (the rank bytes would confuse ordered-binary's decoder).
 */
export function indexKey(value: MixValue): Uint8Array | undefined {
  return value === undefined ? undefined : encodeKey(value).key;
}

/** memcmp order, the order LMDB keeps binary keys in. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** The smallest byte string above every string that starts with `prefix`, or undefined if none. */
export function prefixSuccessor(prefix: Uint8Array): Uint8Array | undefined {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  const next = prefix.slice(0, end);
  next[end - 1] = next[end - 1]! + 1;
  return next;
}

/** The key prefix shared by every key of one kind (rank). */
export function rankPrefix(rank: Rank): Uint8Array {
  return Uint8Array.of(rank);
}

/** The key prefix of every string that starts with `prefix` (the string's key without its terminator). */
export function stringPrefixKey(prefix: string): Uint8Array {
  const { key } = encodeKey(prefix, Number.POSITIVE_INFINITY);
  return key.subarray(0, key.length - 2);
}
