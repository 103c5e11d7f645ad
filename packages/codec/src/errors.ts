/** Stable codes for every way a codec input can be rejected. */
export type CodecErrorCode =
  | "truncated"
  | "out_of_bounds"
  | "bad_tag"
  | "bad_size"
  | "bad_padding"
  | "bad_crc"
  | "bad_utf8"
  | "cycle"
  | "too_deep"
  | "too_large"
  | "bad_json"
  | "bad_msgpack"
  | "bad_value"
  | "unsupported";

/** Thrown by every decoder and encoder on bad input; never a RangeError or TypeError. */
export class CodecError extends Error {
  override readonly name = "CodecError";
  constructor(
    readonly code: CodecErrorCode,
    message: string,
    /** Byte offset in the input where the problem was found, when there is one. */
    readonly offset?: number,
  ) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`);
  }
}
