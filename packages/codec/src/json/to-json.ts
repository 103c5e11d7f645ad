import { toBase64 } from "../base64.js";
import { CodecError } from "../errors.js";
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
import {
  CASE_PREFIX,
  looksTagged,
  STR_PREFIX,
  TAG_PREFIX,
  TYPE_KEY,
  taggedStringJson,
  typeName,
} from "./tagged-form.js";

const UNDEFINED = { _rmx_type: `${TAG_PREFIX}undefined` };

/**
 * Converts a Mix value to its tagged JSON form: a tree of plain JSON values
 * (strings, finite numbers, booleans, null, arrays, objects) that
 * `fromTaggedJson` turns back into an equal value. -0 stays -0 in the tree,
 * but JSON text has no -0 once `JSON.stringify` has written it.
 */
export function toTaggedJson(value: MixValue, options: TaggedJsonOptions = {}): unknown {
  return convert(value, 0, options.maxDepth ?? DEFAULT_MAX_DEPTH);
}

function convert(value: MixValue, depth: number, maxDepth: number): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (Number.isFinite(value)) return value;
      if (Number.isNaN(value)) return { _rmx_type: `${TAG_PREFIX}nan` };
      return { _rmx_type: value > 0 ? `${TAG_PREFIX}posinf` : `${TAG_PREFIX}neginf` };
    case "undefined":
      return { ...UNDEFINED };
    case "bigint":
      return { _rmx_type: `${TAG_PREFIX}int64`, _rmx_value: value.toString() };
    case "object":
      break;
    default:
      throw new CodecError("bad_value", `cannot encode a ${typeof value} as a Mix value`);
  }
  if (value === null) return null;
  if (depth >= maxDepth) throw new CodecError("too_deep", `value nests deeper than ${maxDepth}`);
  const next = depth + 1;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = convert(value[i], next, maxDepth);
    return out;
  }
  if (value instanceof TaggedString) return taggedStringJson(value.tag, value.value);
  if (value instanceof MixCase) {
    const name = typeName(CASE_PREFIX, value.name);
    return value.arg === undefined
      ? { _rmx_type: name }
      : { _rmx_type: name, _rmx_value: convert(value.arg, next, maxDepth) };
  }
  if (value instanceof Uint8Array) return { _rmx_type: `${TAG_PREFIX}bin`, _rmx_value: toBase64(value) };
  if (value instanceof MixToken) {
    return {
      _rmx_type: `${TAG_PREFIX}token`,
      _rmx_value: {
        enabledOps: value.enabledOps,
        data: toBase64(value.data),
        extras: convertMap(value.extras, next, maxDepth),
      },
    };
  }
  if (value instanceof MixOpaque)
    return { _rmx_type: `${TAG_PREFIX}opaque`, _rmx_value: Array.from(value.words) };
  if (value instanceof MixHandle) {
    const words = value.words;
    return {
      _rmx_type: `${TAG_PREFIX}handle`,
      _rmx_value: words.length === 1 ? words[0] : Array.from(words),
    };
  }
  if (isMixMap(value)) return convertMap(value, next, maxDepth);
  throw new CodecError("bad_value", "cannot encode this object as a Mix value");
}

function convertMap(map: MixMap, depth: number, maxDepth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(map)) {
    let v = convert(map[key], depth, maxDepth);
    if (key === TYPE_KEY && typeof v === "string" && looksTagged(v)) v = STR_PREFIX + v;
    if (key === "__proto__") {
      Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    } else {
      out[key] = v;
    }
  }
  return out;
}
