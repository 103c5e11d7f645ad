export interface RmxEncodeOptions {
  /**
   * Write the zlib CRC-32 of each string, tagged string and binary into its
   * CRC word, as the Mix compiler does. Off by default: the Groovebox's own
   * JS host writes 0 there, and the VM accepts it.
   */
  crc?: boolean;
  /** Nesting deeper than this is refused (also catches cyclic JS objects). Default 512. */
  maxDepth?: number;
}

export interface RmxDecodeOptions {
  /** Verify each string/tagged string/binary CRC word (use for compiler output). Default false. */
  checkCrc?: boolean;
  /** Nesting deeper than this is refused with `too_deep`. Default 512. */
  maxDepth?: number;
  /** Refuse inputs longer than this many bytes with `too_large`. Default 256 MiB. */
  maxBytes?: number;
  /**
   * Bound on decoding work, as a multiple of the input's word count. Blocks may
   * be shared by several pointers; this stops a small input from expanding
   * exponentially. Default 64.
   */
  maxExpansion?: number;
  /** Refuse invalid UTF-8 in strings with `bad_utf8` instead of replacing it with U+FFFD. Default false. */
  strictUtf8?: boolean;
  /** Byte offset of the root block. Default 0, where the Groovebox reads and writes it. */
  root?: number;
}

export const DEFAULT_MAX_DEPTH = 512;
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_MAX_EXPANSION = 64;
