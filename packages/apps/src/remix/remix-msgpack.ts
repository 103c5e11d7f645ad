import { CodecError, decodeMsgpack, encodeMsgpack, type MixValue } from "@amp/codec";
import { AppsError } from "../errors.js";

/** Nesting limit for `.mp` entries: far below the stack, above anything an app record needs. */
const MAX_DEPTH = 64;

/** Reads a `.remix` `.mp` entry with @amp/codec (refs travel as `{ref}<id>` strings); bad bytes are `bad_archive`. */
export function decodeRemixMsgpack(bytes: Uint8Array, what: string): MixValue {
  try {
    return decodeMsgpack(bytes, { maxDepth: MAX_DEPTH });
  } catch (err) {
    if (err instanceof CodecError)
      throw new AppsError("bad_archive", `${what} is not valid msgpack: ${err.message}`);
    throw err;
  }
}

export function encodeRemixMsgpack(value: MixValue): Uint8Array {
  return encodeMsgpack(value);
}
