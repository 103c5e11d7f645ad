import { readUtf8, writeUtf8 } from "../utf8.js";

/*
 * Most strings in documents are short and ASCII (keys, ids, timestamps, refs).
 * For those a JS loop beats the native TextEncoder/TextDecoder, whose call
 * overhead (and the subarray each call needs) dominates at these sizes. Any
 * other string goes through the native path, so UTF-8 handling stays theirs.
 */

/** Longest string, in bytes, decoded by the JS loop when it is ASCII. */
const SHORT_STRING = 64;

const fromCharCode = String.fromCharCode;
/** One reusable array of char codes per length: `fromCharCode.apply` reads its whole length. */
const unitArrays = Array.from({ length: SHORT_STRING + 1 }, (_, n) => new Array<number>(n).fill(0));

/**
 * Writes `s` at `offset` if it is all ASCII and returns the end offset, or -1
 * (with some bytes written) at its first other character. The caller must
 * have room for `s.length` bytes.
 */
export function writeAscii(s: string, out: Uint8Array, offset: number): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return -1;
    out[offset + i] = c;
  }
  return offset + n;
}

/** Writes `s` as UTF-8 at `offset` (room for `3 * s.length` bytes needed) and returns the end offset. */
export function writeString(s: string, out: Uint8Array, offset: number): number {
  const end = writeAscii(s, out, offset);
  return end >= 0 ? end : offset + writeUtf8(s, out, offset);
}

/** Decodes UTF-8 `bytes[start, end)`; see `readUtf8` for `strict`. */
export function readString(bytes: Uint8Array, start: number, end: number, strict: boolean): string {
  const n = end - start;
  if (n > SHORT_STRING) return readUtf8(bytes, start, end, strict);
  const units = unitArrays[n]!;
  for (let i = 0; i < n; i++) {
    const c = bytes[start + i]!;
    if (c >= 0x80) return readUtf8(bytes, start, end, strict);
    units[i] = c;
  }
  return fromCharCode.apply(null, units);
}
