import { decode, encode } from "@msgpack/msgpack";
import { RecordValueError } from "./errors.js";
import { MAX_RECORD_BYTES } from "./record-store.js";

/** A record's bytes (msgpack), refused past `MAX_RECORD_BYTES` or when it is not encodable. */
export function encodeRecord(value: unknown): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = encode(value, { ignoreUndefined: true });
  } catch (err) {
    throw new RecordValueError(`a record value cannot be encoded: ${(err as Error).message}`);
  }
  if (bytes.byteLength > MAX_RECORD_BYTES) {
    throw new RecordValueError(`a record may hold at most ${MAX_RECORD_BYTES} bytes`);
  }
  return bytes;
}

export function decodeRecord<V>(bytes: Uint8Array): V {
  return decode(bytes) as V;
}
