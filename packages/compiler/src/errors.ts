/** Stable error codes of `@amp/compiler`. */
export type CompilerErrorCode =
  | "COMPILER_UNAVAILABLE"
  | "COMPILER_TIMEOUT"
  | "COMPILER_CANCELLED"
  | "COMPILER_BAD_REQUEST"
  | "COMPILER_BAD_REPLY"
  | "COMPILER_FAILED";

export class CompilerError extends Error {
  override readonly name = "CompilerError";
  constructor(
    readonly code: CompilerErrorCode,
    message: string,
  ) {
    super(message);
  }
}
