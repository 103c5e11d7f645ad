import { CodecError } from "./errors.js";

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
