/**
 * UTF-8 for the binary codecs. TextEncoder/TextDecoder are native and, in
 * current engines, faster than JS loops even for short strings.
 */

const encoder = new TextEncoder();
const lenientDecoder = new TextDecoder("utf-8");
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** An upper bound of the UTF-8 length of `s`. */
export function maxUtf8Length(s: string): number {
  return s.length * 3;
}

/**
 * Writes `s` as UTF-8 into `out` at `offset` (which must have room for
 * `maxUtf8Length(s)` bytes) and returns the number of bytes written.
 * Lone surrogates become U+FFFD.
 */
export function writeUtf8(s: string, out: Uint8Array, offset: number): number {
  return encoder.encodeInto(s, out.subarray(offset)).written;
}

/** Thrown by `readUtf8` in strict mode; callers turn it into a CodecError with their offset. */
export class InvalidUtf8 extends Error {}

/**
 * Decodes `bytes[start, end)`. Lenient mode replaces invalid sequences with
 * U+FFFD (as the Groovebox's JS host does); strict mode throws InvalidUtf8.
 */
export function readUtf8(bytes: Uint8Array, start: number, end: number, strict: boolean): string {
  const view = bytes.subarray(start, end);
  if (!strict) return lenientDecoder.decode(view);
  try {
    return strictDecoder.decode(view);
  } catch {
    throw new InvalidUtf8("invalid UTF-8");
  }
}
