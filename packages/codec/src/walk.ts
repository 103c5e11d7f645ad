import { CodecError } from "./errors.js";

/** RmxCodec words are little-endian; typed arrays use the platform's order, which is little-endian on every JS engine in use. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function assertLittleEndian(): void {
  if (!LITTLE_ENDIAN) throw new CodecError("unsupported", "RmxCodec needs a little-endian platform");
}

/**
 * Runs a recursive walk, turning a stack overflow (possible only when a caller
 * raises `maxDepth` far beyond the default) into a `too_deep` CodecError.
 */
export function withStackGuard<T>(walk: () => T): T {
  try {
    return walk();
  } catch (e) {
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new CodecError("too_deep", "value nests deeper than the stack allows");
    }
    throw e;
  }
}
