import { CodecError } from "../errors.js";
import { MixCase, type MixValue, TaggedString } from "../value/types.js";
import { reviveOwnedJson } from "./from-json.js";
import {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_LENGTH,
  type TaggedJsonDecodeOptions,
  type TaggedJsonOptions,
} from "./options.js";
import { jsonErrorOffset } from "./syntax-error.js";
import { looksTagged, TYPE_KEY } from "./tagged-form.js";
import { toTaggedJson } from "./to-json.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Writes a Mix value as tagged JSON text. */
export function encodeTaggedJson(value: MixValue, options: TaggedJsonOptions = {}): string {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
  // Most documents hold only what JSON.stringify writes correctly by itself
  // (TaggedString and MixCase carry toJSON methods); they skip the copy.
  const tree = isPlainJson(value, 0, maxDepth) ? value : toTaggedJson(value, { maxDepth });
  return JSON.stringify(tree);
}

/**
 * Whether JSON.stringify writes `value` as tagged JSON unaided: no undefined,
 * non-finite numbers, bigints, binaries or other special kinds, and no map key
 * `_rmx_type` that needs escaping. Throws too_deep past `maxDepth`.
 */
function isPlainJson(value: unknown, depth: number, maxDepth: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value);
    case "object":
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth >= maxDepth) throw new CodecError("too_deep", `value nests deeper than ${maxDepth}`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1, maxDepth)) return false;
    return true;
  }
  if (value instanceof TaggedString) return true;
  if (value instanceof MixCase) return isPlainJson(value.arg ?? null, depth + 1, maxDepth);
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  const map = value as Record<string, unknown>;
  for (const key in map) {
    const v = map[key];
    if (key === TYPE_KEY && typeof v === "string" && looksTagged(v)) return false;
    if (!isPlainJson(v, depth + 1, maxDepth)) return false;
  }
  return true;
}

/** Reads tagged JSON text (a string, or UTF-8 bytes) into a Mix value. */
export function decodeTaggedJson(
  input: string | Uint8Array,
  options: TaggedJsonDecodeOptions = {},
): MixValue {
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  if (input.length > maxLength) {
    throw new CodecError(
      "too_large",
      `input of ${input.length} exceeds the limit of ${maxLength}`,
      maxLength,
    );
  }
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else {
    try {
      text = utf8.decode(input);
    } catch {
      throw new CodecError("bad_utf8", "JSON input is not valid UTF-8");
    }
  }
  let tree: unknown;
  try {
    tree = JSON.parse(text);
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new CodecError("too_deep", "JSON nests deeper than the parser allows");
    }
    const message = e instanceof Error ? e.message : String(e);
    const at = jsonErrorOffset(text);
    const offset = typeof input === "string" ? at : utf8Length(text.slice(0, at));
    throw new CodecError("bad_json", `not JSON: ${message}`, offset);
  }
  return reviveOwnedJson(tree, options.maxDepth ?? DEFAULT_MAX_DEPTH);
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}
