import { CodecError, fromTaggedJson, type MixValue } from "@amp/codec";
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
