import { TrackError } from "../../errors.js";
import {
  type CompileMessage,
  compileFailure,
  compileRequest,
  compileResult,
  compilerError,
  compilerUnavailable,
} from "../compile.js";
import type { Handler } from "../context.js";

/**
 * Compiling: `msg_compile_build {module?, language?, sources}`, `msg_compile_phrases {phrases}` and
 * `msg_compile_modules {modules}` become one `@amp/compiler` request for the app in the URL
 * (`options.kind` says which). Compiling is building, so it needs `allowed_build` on the app. The
 * answer's `result` is `{code, details, errors, warnings, artifacts}`; a failed build also carries
 * its first diagnostic as `errors` with its location (`loc_file`, `loc_start_line`, …,
 * `name_module`), which is how Remix clients show compile errors.
 */
export const compile: Handler<CompileMessage["_rmx_type"]> = async (m, conn, ctx) => {
  const r = ctx.response(m.session ?? "", "", m._rmx_type, m._rmx_echo);
  const compiler = ctx.compiler;
  if (!compiler) {
    r.errors = compilerUnavailable();
    return r;
  }
  if (!ctx.apps.can(conn.user, conn.app, "allowed_build")) {
    throw new TrackError("Track-forbidden", "compiling needs allowed_build on the app");
  }
  const request = compileRequest(m, conn.app);
  try {
    const result = await compiler.compile(
      request,
      m.timeout === undefined ? undefined : { timeoutMs: m.timeout * 1000 },
    );
    r.result = compileResult(result);
    const failed = compileFailure(result);
    if (failed) r.errors = failed;
  } catch (e) {
    r.errors = compilerError(e);
  }
  return r;
};
