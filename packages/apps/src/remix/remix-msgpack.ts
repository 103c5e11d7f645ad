import { isMixMap, type MixMap, type MixValue, TaggedString } from "@amp/codec";
import { decode, encode } from "@msgpack/msgpack";
import { AppsError } from "../errors.js";

/*
 * The `.mp` files of a `.remix` archive are plain msgpack; refs travel as
 * strings `{ref}<id>`. We turn those into ref values on the way in and back
 * into strings on the way out. Other tagged strings are written as
 * `{tag}value` and come back as plain strings.
 * TODO(codec): use @amp/codec's .mp reader/writer once it exports one.
 */
const REF_PREFIX = "{ref}";
const MAX_DEPTH = 64;

export function decodeRemixMsgpack(bytes: Uint8Array, what: string): MixValue {
  let raw: unknown;
  try {
    raw = decode(bytes);
  } catch (err) {
    throw new AppsError("bad_archive", `${what} is not valid msgpack: ${(err as Error).message}`);
  }
  return fromRemix(raw, 0, what);
}

function fromRemix(v: unknown, depth: number, what: string): MixValue {
  if (depth > MAX_DEPTH) throw new AppsError("bad_archive", `${what} is nested too deeply`);
  if (typeof v === "string") return v.startsWith(REF_PREFIX) ? new TaggedString("ref", v.slice(5)) : v;
  if (Array.isArray(v)) return v.map((x) => fromRemix(x, depth + 1, what));
  if (v instanceof Uint8Array) return v;
  if (v instanceof Map) throw new AppsError("bad_archive", `${what} has a map with non-string keys`);
  if (v !== null && typeof v === "object") {
    const out: MixMap = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === "__proto__") throw new AppsError("bad_archive", `${what} has a __proto__ key`);
      out[k] = fromRemix(x, depth + 1, what);
    }
    return out;
  }
  if (
    v === null ||
    typeof v === "number" ||
    typeof v === "boolean" ||
    typeof v === "bigint" ||
    v === undefined
  ) {
    return v;
  }
  throw new AppsError("bad_archive", `${what} holds an unsupported value`);
}

export function encodeRemixMsgpack(v: MixValue): Uint8Array {
  return encode(toRemix(v), { useBigInt64: true });
}

function toRemix(v: MixValue): unknown {
  if (v instanceof TaggedString) return `{${v.tag}}${v.value}`;
  if (Array.isArray(v)) return v.map(toRemix);
  if (isMixMap(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = toRemix(v[k]);
    return out;
  }
  return v;
}
