import {
  CodecError,
  fromTaggedJson,
  MixCase,
  MixHandle,
  type MixMap,
  MixOpaque,
  MixToken,
  type MixValue,
  setEntry,
  TaggedString,
  toTaggedJson,
} from "@amp/codec";
import { TrackError } from "../errors.js";

export const DEFAULT_MAX_DEPTH = 256;

/**
 * A value from a message: tagged JSON when the message says its values are escaped
 * (`argsEscEnabled`, `argEscEnabled`, `valueEscEnabled`), plain JSON otherwise.
 */
export function messageValue(
  json: unknown,
  escaped: boolean | undefined,
  maxDepth = DEFAULT_MAX_DEPTH,
): MixValue {
  try {
    if (escaped) return fromTaggedJson(json, { maxDepth });
  } catch (e) {
    if (e instanceof CodecError) throw new TrackError("Track-badMessage", `bad value: ${e.message}`);
    throw e;
  }
  checkDepth(json, maxDepth);
  return json as MixValue;
}

function checkDepth(value: unknown, maxDepth: number, depth = 0): void {
  if (value === null || typeof value !== "object") return;
  if (depth >= maxDepth) throw new TrackError("Track-badMessage", `value nests deeper than ${maxDepth}`);
  for (const v of Array.isArray(value) ? value : Object.values(value)) checkDepth(v, maxDepth, depth + 1);
}

/** How a token value shows to a client, as the reference host (`machine-wasm-core.js`) writes it. */
export const OPAQUE_TOKEN = "<opaque token>";

/**
 * A VM value as a client gets it (cells, `$outputError`, transform answers) on every transport:
 * tagged JSON in which each token value is the string `"<opaque token>"`, as the reference host
 * encodes tokens for its clients, so a bearer token in a Token value never leaves the server.
 */
export function clientJson(value: MixValue): unknown {
  return toTaggedJson(hasToken(value, 0) ? withoutTokens(value, 0) : value);
}

/** Deeper values are left to `toTaggedJson`, which refuses them (`too_deep`). */
const WALK_LIMIT = 1024;

function hasToken(v: MixValue, depth: number): boolean {
  if (v === null || typeof v !== "object" || depth > WALK_LIMIT) return false;
  if (v instanceof MixToken) return true;
  if (Array.isArray(v)) {
    for (const x of v) if (x !== null && typeof x === "object" && hasToken(x, depth + 1)) return true;
    return false;
  }
  if (v instanceof MixCase) return hasToken(v.arg, depth + 1);
  if (
    v instanceof Uint8Array ||
    v instanceof TaggedString ||
    v instanceof MixOpaque ||
    v instanceof MixHandle
  )
    return false;
  for (const key in v) {
    const x = (v as MixMap)[key];
    if (x !== null && typeof x === "object" && hasToken(x, depth + 1)) return true;
  }
  return false;
}

function withoutTokens(v: MixValue, depth: number): MixValue {
  if (v === null || typeof v !== "object") return v;
  if (v instanceof MixToken) return OPAQUE_TOKEN;
  if (Array.isArray(v)) return v.map((x) => withoutTokens(x, depth + 1));
  if (v instanceof MixCase) return new MixCase(v.name, withoutTokens(v.arg, depth + 1));
  if (
    v instanceof Uint8Array ||
    v instanceof TaggedString ||
    v instanceof MixOpaque ||
    v instanceof MixHandle
  )
    return v;
  const out: MixMap = {};
  for (const key of Object.keys(v)) setEntry(out, key, withoutTokens((v as MixMap)[key], depth + 1));
  return out;
}
