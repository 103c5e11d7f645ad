/**
 * UTF-8 helpers shared by the binary codecs. Short strings are converted in JS
 * because calling TextEncoder/TextDecoder costs more than the work itself for
 * the map keys and small values that dominate real documents.
 */

const encoder = new TextEncoder();
const lenientDecoder = new TextDecoder("utf-8");
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** Below this many bytes, strings are decoded in JS. */
const SHORT_DECODE = 48;
/** Below this many UTF-16 units, strings are encoded in JS. */
const SHORT_ENCODE = 64;

/** An upper bound of the UTF-8 length of `s`. */
export function maxUtf8Length(s: string): number {
  return s.length * 3;
}

/**
 * Writes `s` as UTF-8 into `out` at `offset` (which must have room for
 * `maxUtf8Length(s)` bytes) and returns the number of bytes written.
 * Lone surrogates become U+FFFD, as with TextEncoder.
 */
export function writeUtf8(s: string, out: Uint8Array, offset: number): number {
  const n = s.length;
  if (n > SHORT_ENCODE) return encoder.encodeInto(s, out.subarray(offset)).written;
  let p = offset;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[p++] = c;
    } else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          out[p++] = 0xf0 | (c >> 18);
          out[p++] = 0x80 | ((c >> 12) & 0x3f);
          out[p++] = 0x80 | ((c >> 6) & 0x3f);
          out[p++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 0x3f);
      out[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p - offset;
}

/** Thrown by `readUtf8` in strict mode; callers turn it into a CodecError with their offset. */
export class InvalidUtf8 extends Error {}

/**
 * Decodes `bytes[start, end)`. Lenient mode replaces invalid sequences with
 * U+FFFD (as the Groovebox's JS host does); strict mode throws InvalidUtf8.
 */
export function readUtf8(bytes: Uint8Array, start: number, end: number, strict: boolean): string {
  if (end - start > SHORT_DECODE) return decodeLong(bytes, start, end, strict);
  let s = "";
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c >= 0x80) return decodeLong(bytes, start, end, strict);
    s += String.fromCharCode(c);
  }
  return s;
}

function decodeLong(bytes: Uint8Array, start: number, end: number, strict: boolean): string {
  const view = bytes.subarray(start, end);
  if (!strict) return lenientDecoder.decode(view);
  try {
    return strictDecoder.decode(view);
  } catch {
    throw new InvalidUtf8("invalid UTF-8");
  }
}
