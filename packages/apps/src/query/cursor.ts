import type { MixMap } from "@amp/codec";
import type { SortKey } from "./ast.js";
import { QueryCursorError } from "./errors.js";
import { compareKeys, encodeKey, MAX_INDEX_KEY_BYTES } from "./key.js";
import { QUERY_LIMITS } from "./limits.js";
import { valueAt } from "./literal.js";
import { printPath } from "./print.js";

/**
 * Sort positions and paging cursors.
 *
 * A document's position is the concatenation of the order-preserving keys
 * (key.ts) of its sort fields, each bitwise inverted when descending, then its
 * `_rmx_id`. Keys are prefix-free, so comparing positions byte by byte is
 * comparing the tuples. Sorting is by position; the id makes it total and stable.
 * A sort value whose key exceeds MAX_INDEX_KEY_BYTES is cut there, so values
 * differing only beyond that tie and fall back to the next key.
 *
 * A cursor is base64url of: version byte 1, a 4-byte fingerprint of the sort
 * clause, and the position of the last document returned. `after` resumes
 * strictly behind it, so pages never repeat or skip a document that stayed put.
 */
const VERSION = 1;
const HEADER = 5;

export function positionKey(doc: MixMap, sort: readonly SortKey[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const k of sort) {
    const { key } = encodeKey(valueAt(doc, k.path), MAX_INDEX_KEY_BYTES);
    if (k.order === "desc") for (let i = 0; i < key.length; i++) key[i] = ~key[i]! & 0xff;
    parts.push(key);
  }
  parts.push(encodeKey(doc._rmx_id, MAX_INDEX_KEY_BYTES).key);
  return concat(parts);
}

export function comparePositions(a: Uint8Array, b: Uint8Array): number {
  return compareKeys(a, b);
}

export function encodeCursor(sort: readonly SortKey[], position: Uint8Array): string {
  const bytes = new Uint8Array(HEADER + position.length);
  bytes[0] = VERSION;
  new DataView(bytes.buffer).setUint32(1, fingerprint(sort));
  bytes.set(position, HEADER);
  return toBase64Url(bytes);
}

/** The position a cursor stands for; throws `QueryCursorError` if it is malformed or made for another sort. */
export function decodeCursor(cursor: string, sort: readonly SortKey[]): Uint8Array {
  if (cursor.length > QUERY_LIMITS.maxLength || !/^[A-Za-z0-9_-]+$/.test(cursor) || cursor.length % 4 === 1) {
    throw new QueryCursorError("cursor is not a base64url string");
  }
  const bytes = fromBase64Url(cursor);
  if (bytes.length <= HEADER || bytes[0] !== VERSION) throw new QueryCursorError("cursor is malformed");
  if (new DataView(bytes.buffer).getUint32(1) !== fingerprint(sort)) {
    throw new QueryCursorError("cursor was made for a different sort");
  }
  return bytes.subarray(HEADER);
}

/** FNV-1a over the printed sort clause. */
function fingerprint(sort: readonly SortKey[]): number {
  const text = sort.map((k) => `${k.order === "desc" ? "-" : ""}${printPath(k.path)}`).join(",");
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** base64url without padding; written here so the query module needs no Node Buffer. */
function toBase64Url(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((bytes.length - i) * 8) / 6));
    for (let j = 0; j < chars; j++) out += ALPHABET[(n >> (18 - 6 * j)) & 63];
  }
  return out;
}

function fromBase64Url(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 6) / 8));
  let bits = 0;
  let acc = 0;
  let at = 0;
  for (const c of text) {
    acc = (acc << 6) | ALPHABET.indexOf(c);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}
