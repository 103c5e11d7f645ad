export { CompilerClient, type CompilerClientOptions, toResult } from "./client.js";
export type { CompileOptions, Compiler } from "./compiler.js";
export { CompilerError, type CompilerErrorCode } from "./errors.js";
export {
  type Announcement,
  type Artifact,
  type CompileDiagnostic,
  type CompileReply,
  type CompileRequest,
  type CompileResult,
  compileDiagnosticSchema,
  compileReplySchema,
  compileRequestSchema,
  contentHash,
  DEFAULT_PREFIX,
  messageTypes,
  topics,
} from "./protocol.js";
export {
  type CompileHandler,
  type CompileOutput,
  type CompilerService,
  type ServeCompilerOptions,
  serveCompiler,
} from "./serve.js";
export { DisabledCompiler, serveStubCompiler } from "./stub.js";
