import type { CompileRequest, CompileResult } from "./protocol.js";

export interface CompileOptions {
  /** Give up after this many ms (`COMPILER_TIMEOUT`). */
  timeoutMs?: number;
  /** Abort to cancel (`COMPILER_CANCELLED`); the compiler is told to stop. */
  signal?: AbortSignal;
}

/** What the rest of amp compiles with: the MQTT bridge, or the stub when the bridge is off. */
export interface Compiler {
  compile(request: CompileRequest, options?: CompileOptions): Promise<CompileResult>;
  close(): Promise<void>;
}
