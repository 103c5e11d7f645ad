export interface MsgpackEncodeOptions {
  /** Nesting deeper than this is refused with `too_deep` (also catches cyclic objects). Default 512. */
  maxDepth?: number;
}

export interface MsgpackDecodeOptions {
  /** Nesting deeper than this is refused with `too_deep`. Default 512. */
  maxDepth?: number;
  /** Refuse inputs longer than this many bytes with `too_large`. Default 256 MiB. */
  maxBytes?: number;
  /** Refuse invalid UTF-8 in strings with `bad_utf8` instead of replacing it with U+FFFD. Default false. */
  strictUtf8?: boolean;
}

export const DEFAULT_MAX_DEPTH = 512;
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
