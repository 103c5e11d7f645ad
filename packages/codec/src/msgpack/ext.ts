/**
 * How Mix values map onto msgpack. Plain JSON-like values use the standard
 * types; the rest use these application extension types.
 *
 * Strings: `.remix` archives store refs as ordinary strings `{ref}<id>`, so a
 * msgpack string of the form `{tag}value` (tag as in TAGGED_FORM) is read as
 * a TaggedString and a TaggedString is written that way. A plain string that
 * would be misread, or a tagged string with an unusual tag, uses an extension.
 */
export const EXT_UNDEFINED = 0;
/** A tagged string whose `{tag}value` text is not in TAGGED_FORM. Payload: that text, UTF-8. */
export const EXT_TAGGED = 1;
/** A plain string that is in TAGGED_FORM. Payload: UTF-8. */
export const EXT_PLAIN_STRING = 2;
/** Payload: msgpack `[name]` or `[name, arg]`. */
export const EXT_CASE = 3;
/** Payload: msgpack `[enabledOps, data (bin), extras (map)]`. */
export const EXT_TOKEN = 4;
/** Payload: the raw 32-bit words, little-endian. */
export const EXT_OPAQUE = 5;
export const EXT_HANDLE = 6;
/** Payload: 8 bytes, big-endian two's complement (a bigint, not a number). */
export const EXT_INT64 = 7;

/** `{tag}value` where tag is a name with an optional `:annotation`, as refs and other Mix tags are written. */
const TAGGED_FORM = /^\{[A-Za-z_$][\w$.-]*(?::[^{}]*)?\}/;

/** Whether a msgpack string reads as a tagged string; returns the index of the closing "}" or -1. */
export function taggedFormEnd(s: string): number {
  if (s.charCodeAt(0) !== 0x7b) return -1;
  const m = TAGGED_FORM.exec(s);
  return m ? m[0].length - 1 : -1;
}

/**
 * Whether `{tag}` is in TAGGED_FORM, i.e. `taggedFormEnd(`{${tag}}…`)` is
 * `tag.length + 1`: the check the writer makes for every tagged string,
 * without building the text or running the regex.
 */
export function isTagName(tag: string): boolean {
  const n = tag.length;
  if (n === 0) return false;
  const first = tag.charCodeAt(0);
  if (!(isLetter(first) || first === 0x5f || first === 0x24)) return false;
  let i = 1;
  for (; i < n; i++) {
    const c = tag.charCodeAt(i);
    if (!(isLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x24 || c === 0x2e || c === 0x2d))
      break;
  }
  if (i === n) return true;
  if (tag.charCodeAt(i) !== 0x3a) return false;
  for (i++; i < n; i++) {
    const c = tag.charCodeAt(i);
    if (c === 0x7b || c === 0x7d) return false;
  }
  return true;
}

/** `taggedFormEnd` on UTF-8 bytes `[start, end)`: the index of the closing "}" or -1. */
export function taggedFormEndInBytes(b: Uint8Array, start: number, end: number): number {
  if (b[start] !== 0x7b || start + 2 >= end) return -1;
  const first = b[start + 1]!;
  if (!(isLetter(first) || first === 0x5f || first === 0x24)) return -1;
  let i = start + 2;
  for (; i < end; i++) {
    const c = b[i]!;
    if (!(isLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x24 || c === 0x2e || c === 0x2d))
      break;
  }
  if (i < end && b[i] === 0x3a) {
    for (i++; i < end && b[i] !== 0x7b && b[i] !== 0x7d; i++);
  }
  return i < end && b[i] === 0x7d ? i : -1;
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
