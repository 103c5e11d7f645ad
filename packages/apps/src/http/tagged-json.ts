import { CodecError, fromTaggedJson, isMixMap, type MixMap, type MixValue, toTaggedJson } from "@amp/codec";
import { AppsError } from "../errors.js";

/** JSON nested deeper than this is refused before it can exhaust the stack. */
const MAX_JSON_DEPTH = 64;

/** A document from a JSON body (tagged JSON, via @amp/codec): a map, or `invalid_document`. */
export function documentFromJson(json: unknown): MixMap {
  let value: MixValue;
  try {
    value = fromTaggedJson(json, { maxDepth: MAX_JSON_DEPTH });
  } catch (err) {
    if (err instanceof CodecError) throw new AppsError("invalid_document", err.message);
    throw err;
  }
  if (!isMixMap(value)) throw new AppsError("invalid_document", "a document is a JSON object");
  return value;
}

/** A value for a JSON answer, in tagged JSON. */
export function toJson(value: MixValue): Record<string, unknown> {
  return toTaggedJson(value) as Record<string, unknown>;
}
