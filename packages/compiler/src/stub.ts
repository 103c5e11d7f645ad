import type { MessageBus } from "@amp/broker";
import type { Compiler } from "./compiler.js";
import { CompilerError } from "./errors.js";
import type { CompileResult } from "./protocol.js";
import { type CompilerService, type ServeCompilerOptions, serveCompiler } from "./serve.js";

const unavailable = () => new CompilerError("COMPILER_UNAVAILABLE", "compiler unavailable");

/** The compiler when the bridge is off (`--no-compiler`): every compile fails with COMPILER_UNAVAILABLE. */
export class DisabledCompiler implements Compiler {
  compile(): Promise<CompileResult> {
    return Promise.reject(unavailable());
  }
  async close(): Promise<void> {}
}

/**
 * The stub compiler for embedded mode: a real instance on the broker that answers every request
 * with "compiler unavailable", so clients get a prompt, clear answer instead of a timeout.
 */
export function serveStubCompiler(
  bus: MessageBus,
  options: ServeCompilerOptions = {},
): Promise<CompilerService> {
  return serveCompiler(
    async () => {
      throw unavailable();
    },
    bus,
    { instanceId: "stub", ...options },
  );
}
