import { fromBase64 } from "../base64.js";
import { CodecError } from "../errors.js";
import { setEntry } from "../value/construct.js";
import { isMixMap } from "../value/guards.js";
import {
  MixCase,
  MixHandle,
  type MixMap,
  MixOpaque,
  MixToken,
  type MixValue,
  TaggedString,
} from "../value/types.js";
import { DEFAULT_MAX_DEPTH, type TaggedJsonOptions } from "./options.js";
import { CASE_PREFIX, REF_CASE, STR_PREFIX, TAG_PREFIX, TYPE_KEY, VALUE_KEY } from "./tagged-form.js";

/**
 * Turns a tagged JSON tree (for example from `JSON.parse`) into a Mix value.
 * The input is left untouched. Objects whose `_rmx_type` names an unknown
 * `{tag}` kind with a non-string value stay maps, as the Groovebox's host reads them.
 */
export function fromTaggedJson(json: unknown, options: TaggedJsonOptions = {}): MixValue {
  return new JsonReviver(options.maxDepth ?? DEFAULT_MAX_DEPTH, false).revive(json, 0);
}

/** Like `fromTaggedJson`, but reuses the arrays and objects of a tree the caller owns (fresh from JSON.parse). */
export function reviveOwnedJson(json: unknown, maxDepth: number): MixValue {
  return new JsonReviver(maxDepth, true).revive(json, 0);
}

class JsonReviver {
  constructor(
    private readonly maxDepth: number,
    private readonly inPlace: boolean,
  ) {}

  revive(json: unknown, depth: number): MixValue {
    switch (typeof json) {
      case "string":
      case "number":
      case "boolean":
      case "undefined":
        return json;
      case "object":
        break;
      default:
        throw new CodecError("bad_json", `a ${typeof json} is not JSON`);
    }
    if (json === null) return null;
    if (depth >= this.maxDepth) throw new CodecError("too_deep", `JSON nests deeper than ${this.maxDepth}`);
    if (Array.isArray(json)) return this.array(json, depth + 1);
    if (!isMixMap(json))
      throw new CodecError("bad_json", "only plain objects and arrays are JSON containers");
    const type = (json as Record<string, unknown>)[TYPE_KEY];
    if (typeof type === "string") {
      if (type.startsWith(TAG_PREFIX)) {
        const special = this.special(
          type.slice(TAG_PREFIX.length),
          json as Record<string, unknown>,
          depth + 1,
        );
        if (special !== NOT_SPECIAL) return special as MixValue;
      } else if (type.startsWith(STR_PREFIX)) {
        const map = this.map(json as Record<string, unknown>, depth + 1, true);
        map[TYPE_KEY] = type.slice(STR_PREFIX.length);
        return map;
      }
    }
    return this.map(json as Record<string, unknown>, depth + 1, false);
  }

  private array(json: unknown[], depth: number): MixValue[] {
    const out = this.inPlace ? (json as MixValue[]) : new Array<MixValue>(json.length);
    for (let i = 0; i < json.length; i++) {
      const v = json[i];
      out[i] = typeof v === "object" && v !== null ? this.revive(v, depth) : (v as MixValue);
    }
    return out;
  }

  private map(json: Record<string, unknown>, depth: number, copy: boolean): MixMap {
    if (this.inPlace && !copy) {
      for (const key in json) {
        const v = json[key];
        if (typeof v === "object" && v !== null) {
          const r = this.revive(v, depth);
          if (r !== v) setEntry(json as MixMap, key, r);
        }
      }
      return json as MixMap;
    }
    const out: MixMap = {};
    for (const key of Object.keys(json)) setEntry(out, key, this.revive(json[key], depth));
    return out;
  }

  /** The value a `{tag}<kind>` object stands for, or NOT_SPECIAL when it is an ordinary map. */
  private special(kind: string, json: Record<string, unknown>, depth: number): MixValue | typeof NOT_SPECIAL {
    const v = json[VALUE_KEY];
    switch (kind) {
      case "undefined":
        return undefined;
      case "null":
        return null;
      case "nan":
        return Number.NaN;
      case "posinf":
        return Number.POSITIVE_INFINITY;
      case "neginf":
        return Number.NEGATIVE_INFINITY;
      case "str":
        return expectString(v, kind);
      case "bin":
        return bytes(v, kind);
      case "int64":
        return int64(v);
      case "tag":
        return rawTaggedString(expectString(v, kind));
      case "handle": {
        // The host's own decoder takes the id as a number or a decimal string.
        const id = typeof v === "string" && /^\d{1,10}$/.test(v) ? Number(v) : v;
        return new MixHandle(words(typeof id === "number" ? [id] : id, kind));
      }
      case "opaque":
        return new MixOpaque(words(v, kind));
      case "token":
        return this.token(v, depth);
    }
    if (kind.startsWith("case:")) {
      const name = kind.slice(CASE_PREFIX.length - TAG_PREFIX.length);
      if (name === REF_CASE && typeof v === "string") return new TaggedString("ref", v);
      return new MixCase(name, this.revive(v, depth));
    }
    return typeof v === "string" ? new TaggedString(kind, v) : NOT_SPECIAL;
  }

  private token(v: unknown, depth: number): MixToken {
    if (!isMixMap(v)) throw new CodecError("bad_json", "{tag}token needs an object value");
    const { enabledOps, data, extras } = v as Record<string, unknown>;
    if (
      typeof enabledOps !== "number" ||
      !Number.isInteger(enabledOps) ||
      enabledOps < 0 ||
      enabledOps > 0xffffffff
    ) {
      throw new CodecError("bad_json", "{tag}token needs enabledOps, an unsigned 32-bit integer");
    }
    const map = this.revive(extras ?? {}, depth);
    if (!isMixMap(map)) throw new CodecError("bad_json", "{tag}token extras must be a map");
    return new MixToken(enabledOps, bytes(data, "token"), map);
  }
}

const NOT_SPECIAL = Symbol("not special");

function expectString(v: unknown, kind: string): string {
  if (typeof v !== "string") throw new CodecError("bad_json", `{tag}${kind} needs a string value`);
  return v;
}

function bytes(v: unknown, kind: string): Uint8Array {
  const out = fromBase64(expectString(v, kind));
  if (!out) throw new CodecError("bad_json", `{tag}${kind} needs base64`);
  return out;
}

function int64(v: unknown): bigint {
  const s = expectString(v, "int64");
  if (!/^-?\d{1,20}$/.test(s)) throw new CodecError("bad_json", "{tag}int64 needs a decimal integer string");
  const n = BigInt(s);
  if (BigInt.asIntN(64, n) !== n) throw new CodecError("bad_json", "{tag}int64 out of the 64-bit range");
  return n;
}

function words(v: unknown, kind: string): Uint32Array {
  const ok =
    Array.isArray(v) &&
    v.length <= 1 << 20 &&
    v.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff);
  if (!ok) throw new CodecError("bad_json", `{tag}${kind} needs unsigned 32-bit words`);
  return Uint32Array.from(v as number[]);
}

function rawTaggedString(s: string): TaggedString {
  const close = s.indexOf("}");
  if (s.charCodeAt(0) !== 0x7b || close < 0)
    throw new CodecError("bad_json", "{tag}tag needs a {tag}value string");
  return new TaggedString(s.slice(1, close), s.slice(close + 1));
}
