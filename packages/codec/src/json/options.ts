export interface TaggedJsonOptions {
  /** Nesting deeper than this is refused with `too_deep` (also catches cyclic objects). Default 512. */
  maxDepth?: number;
}

export interface TaggedJsonDecodeOptions extends TaggedJsonOptions {
  /** Longest accepted input: bytes for a Uint8Array, UTF-16 units for a string. Default 64 MiB. */
  maxLength?: number;
}

export const DEFAULT_MAX_DEPTH = 512;
export const DEFAULT_MAX_LENGTH = 64 * 1024 * 1024;
