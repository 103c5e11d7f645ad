import { CodecError } from "../errors.js";

/**
 * RmxCodec words are little-endian, and the codec reads them through typed
 * arrays, which use the platform's order: little-endian on every JS engine in use.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function assertLittleEndian(): void {
  if (!LITTLE_ENDIAN) throw new CodecError("unsupported", "RmxCodec needs a little-endian platform");
}
