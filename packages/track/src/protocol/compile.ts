import { toTaggedJson } from "@amp/codec";
import {
  type CompileDiagnostic,
  type CompileRequest,
  type CompileResult,
  CompilerError,
  compileRequestSchema,
} from "@amp/compiler";
import { errorMessage, TrackError } from "../errors.js";
import type { MessageOf } from "./messages.js";
import { errorObject, type ResponseError } from "./response.js";

export type CompileMessage =
  | MessageOf<"msg_compile_build">
  | MessageOf<"msg_compile_phrases">
  | MessageOf<"msg_compile_modules">;

/** What a compile message asks for, passed to the compiler as `options.kind`. */
const KINDS = {
  msg_compile_build: "build",
  msg_compile_phrases: "phrases",
  msg_compile_modules: "modules",
} as const;

/**
 * The `@amp/compiler` request of a compile message, for the app named in the URL.
 * Sources come from `sources` (build), `phrases` (strings or `{name, text}`) or `modules`;
 * `module`, `language` and `options` pass through; `options.kind` says which message it was.
 */
export function compileRequest(m: CompileMessage, app: string): CompileRequest {
  const sources =
    m._rmx_type === "msg_compile_phrases"
      ? (m.phrases ?? []).map((p, i) => (typeof p === "string" ? { name: `phrase-${i + 1}`, text: p } : p))
      : m._rmx_type === "msg_compile_modules"
        ? (m.modules ?? [])
        : (m.sources ?? m.modules ?? []);
  const parsed = compileRequestSchema.safeParse({
    app,
    module: m.module,
    language: m.language,
    sources,
    options: { ...m.options, kind: KINDS[m._rmx_type] },
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ` : "";
    throw new TrackError(
      "Track-badMessage",
      `${m._rmx_type}: ${where}${issue?.message ?? "invalid request"}`,
    );
  }
  return parsed.data;
}

/**
 * The answer's `result`: `{code, details}` as clients expect, with every diagnostic (locations
 * and `name_module`) and the artifacts (bytes as tagged-JSON binary, with their SHA-256).
 */
export function compileResult(result: CompileResult) {
  return {
    code: result.code,
    details: result.details,
    errors: result.errors,
    warnings: result.warnings,
    artifacts: result.artifacts.map((a) => ({
      name: a.name,
      sha256: a.sha256,
      size: a.bytes.byteLength,
      data: toTaggedJson(a.bytes),
    })),
  };
}

/**
 * The response's `errors` object for a failed build: its first diagnostic as the client shows it
 * (`code`, `message`, `loc_file`, `loc_start_line`, `loc_start_col`, …, `name_module`); all of
 * them are in `result.errors`. Undefined when the build succeeded.
 */
export function compileFailure(result: CompileResult): ResponseError | undefined {
  if (result.code === 0 && result.errors.length === 0) return undefined;
  const first: CompileDiagnostic | undefined = result.errors[0];
  if (first === undefined) return errorObject("Track-compile", result.details || "the build failed");
  return { ...first, count: result.errors.length };
}

/** No compiler, a disabled bridge or no compiler announced. */
export function compilerUnavailable(): ResponseError {
  return errorObject("Track-compilerUnavailable", "compiler unavailable");
}

/** A compiler that could not answer: "compiler unavailable", a timeout, a bad request or reply. */
export function compilerError(e: unknown): ResponseError {
  if (!(e instanceof CompilerError)) return errorObject("Track-compile", errorMessage(e));
  switch (e.code) {
    case "COMPILER_UNAVAILABLE":
      return compilerUnavailable();
    case "COMPILER_TIMEOUT":
      return errorObject("Track-executionTimedOut", "the compiler did not answer in time");
    case "COMPILER_BAD_REQUEST":
      return errorObject("Track-badMessage", e.message, { compilerError: e.code });
    default:
      return errorObject("Track-compile", e.message, { compilerError: e.code });
  }
}
