import { Worker } from "node:worker_threads";
import { CodecError, decodeRmx, encodeRmx, isBinary, isCase, isMixArray, type MixValue } from "@amp/codec";
import { TrackError } from "../errors.js";
import { ffiFailure, numberOf } from "./args.js";
import type { SessionFfiGroup } from "./scoped.js";
import { WASM_WORKER_SOURCE } from "./wasm-worker.js";

/** Limits of `$wasm_*`, per session. */
export interface WasmLimits {
  /** Largest module. Default 16 MiB. */
  maxModuleBytes: number;
  /** Modules loaded over a session's life (indexes are never reused). Default 16. */
  maxModules: number;
  /** Largest encoded argument / result of one call. Default 4 MiB / 16 MiB. */
  maxArgsBytes: number;
  maxResultBytes: number;
  /** Largest linear memory of a module (checked after load and after each call). Default 256 MiB. */
  maxMemoryBytes: number;
  /** One load or call; past it the session's Wasm worker is ended with all its modules. Default 5 s. */
  callTimeoutMs: number;
}

export const DEFAULT_WASM_LIMITS: WasmLimits = {
  maxModuleBytes: 16 * 1024 * 1024,
  maxModules: 16,
  maxArgsBytes: 4 * 1024 * 1024,
  maxResultBytes: 16 * 1024 * 1024,
  maxMemoryBytes: 256 * 1024 * 1024,
  callTimeoutMs: 5000,
};

interface Pending {
  resolve(result: unknown): void;
  reject(e: Error): void;
}

/** One session's user modules: a worker thread of their own, started on the first `$wasm_load`. */
class WasmSandbox {
  #worker: Worker | undefined;
  #seq = 0;
  readonly #pending = new Map<number, Pending>();
  /** Module index → exported function names by function index; undefined once shut down. */
  readonly modules: Array<string[] | undefined> = [];
  #ended = false;

  constructor(private readonly limits: WasmLimits) {}

  request(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.#ended) return Promise.reject(new Error("the session ended"));
    const worker = this.worker();
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(
          new TrackError(
            "Track-executionTimedOut",
            `a Wasm call ran past ${this.limits.callTimeoutMs} ms; the session's modules were shut down`,
          ),
        );
      }, this.limits.callTimeoutMs);
      this.#pending.set(seq, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      worker.postMessage({ ...message, seq }, transfer);
    });
  }

  private worker(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WASM_WORKER_SOURCE, {
      eval: true,
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
    });
    worker.unref();
    worker.on("message", (m: { seq: number; ok: boolean; result?: unknown; error?: string }) => {
      const p = this.#pending.get(m.seq);
      this.#pending.delete(m.seq);
      if (m.ok) p?.resolve(m.result);
      else p?.reject(new Error(m.error ?? "failed"));
    });
    worker.on("error", (e) => this.fail(e));
    worker.on("exit", () => this.fail(new Error("the Wasm worker stopped")));
    this.#worker = worker;
    return worker;
  }

  /** Ends the worker: every pending request fails, every module is gone (indexes stay taken). */
  fail(e: Error): void {
    const worker = this.#worker;
    this.#worker = undefined;
    for (let i = 0; i < this.modules.length; i++) this.modules[i] = undefined;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(e);
    void worker?.terminate();
  }

  async dispose(): Promise<void> {
    this.#ended = true;
    this.fail(new Error("the session ended"));
  }
}

/**
 * `$wasm_load(bytes)` → module index; `$wasm_fun(index, name)` → `[index, funIndex]`;
 * `$wasm_call([index, funIndex], args)` → the function's `ok` result (an `error` result aborts);
 * `$wasm_shutdown(index)` → undefined. Shapes and the calling convention are the reference
 * host's; the modules run in a worker thread of the session's own (no imports, size, memory and
 * time limits), so a bad or runaway module only fails that session's calls. Freed at session end.
 */
export function wasmFfis(limits: Partial<WasmLimits> = {}): SessionFfiGroup<WasmSandbox> {
  const lim = { ...DEFAULT_WASM_LIMITS, ...limits };
  const wasmError = (ffi: string, message: string) => new Error(`${ffi}: WASM FFI: ${message}`);
  const moduleOf = (ffi: string, sandbox: WasmSandbox, v: MixValue) => {
    const index = numberOf(v);
    if (index === undefined || !Number.isInteger(index) || index < 0 || index >= sandbox.modules.length) {
      throw wasmError(ffi, "invalid instance");
    }
    const functions = sandbox.modules[index];
    if (functions === undefined) throw wasmError(ffi, "FFI has been shutdown");
    return { index, functions };
  };
  const run = async (
    ffi: string,
    sandbox: WasmSandbox,
    message: Record<string, unknown>,
    transfer?: ArrayBuffer[],
  ) => {
    try {
      return await sandbox.request(message, transfer);
    } catch (e) {
      if (e instanceof TrackError) throw ffiFailure(ffi, e);
      throw wasmError(ffi, (e as Error).message);
    }
  };

  return {
    name: "wasm",
    prepare: () => new WasmSandbox(lim),
    dispose: (sandbox) => sandbox.dispose(),
    handlers: {
      $wasm_load: async (args, ctx, sandbox) => {
        const bytes = args[0];
        if (!isBinary(bytes)) throw wasmError(ctx.name, "the module must be binary");
        if (bytes.byteLength > lim.maxModuleBytes) {
          throw ffiFailure(
            ctx.name,
            new TrackError("Track-tooLarge", `a module over ${lim.maxModuleBytes} bytes`),
          );
        }
        if (sandbox.modules.length >= lim.maxModules) {
          throw ffiFailure(
            ctx.name,
            new TrackError("Track-tooLarge", `at most ${lim.maxModules} modules per session`),
          );
        }
        const index = sandbox.modules.length;
        sandbox.modules.push(undefined);
        const copy = bytes.slice();
        await run(
          ctx.name,
          sandbox,
          { op: "load", id: index, bytes: copy, maxMemoryBytes: lim.maxMemoryBytes },
          [copy.buffer as ArrayBuffer],
        );
        sandbox.modules[index] = [];
        return index;
      },
      $wasm_fun: async (args, ctx, sandbox) => {
        const { index, functions } = moduleOf(ctx.name, sandbox, args[0]);
        const name = args[1];
        if (typeof name !== "string" || name.length > 1024)
          throw wasmError(ctx.name, `function not found: ${String(name)}`);
        await run(ctx.name, sandbox, { op: "fun", id: index, name });
        functions.push(name);
        return [index, functions.length - 1];
      },
      $wasm_call: async (args, ctx, sandbox) => {
        const fn = args[0];
        if (!isMixArray(fn) || fn.length !== 2) throw wasmError(ctx.name, "invalid function");
        const { index, functions } = moduleOf(ctx.name, sandbox, fn[0]);
        const funIndex = numberOf(fn[1]);
        const name = funIndex === undefined ? undefined : functions[funIndex];
        if (name === undefined) throw wasmError(ctx.name, "invalid function");
        const encoded = encodeRmx(args[1]);
        if (encoded.byteLength > lim.maxArgsBytes) {
          throw ffiFailure(
            ctx.name,
            new TrackError("Track-tooLarge", `arguments over ${lim.maxArgsBytes} bytes`),
          );
        }
        const out = (await run(ctx.name, sandbox, {
          op: "call",
          id: index,
          name,
          args: encoded,
          maxResultBytes: lim.maxResultBytes,
          maxMemoryBytes: lim.maxMemoryBytes,
        })) as Uint8Array;
        let result: MixValue;
        try {
          result = decodeRmx(new Uint8Array(out.buffer, out.byteOffset, out.byteLength), {
            maxBytes: lim.maxResultBytes,
          });
        } catch (e) {
          throw wasmError(ctx.name, `bad result: ${e instanceof CodecError ? e.message : String(e)}`);
        }
        if (!isCase(result)) throw wasmError(ctx.name, "Wasm call must return a case");
        if (result.name === "ok") return result.arg;
        if (result.name === "error") throw wasmError(ctx.name, `Wasm call failed: ${String(result.arg)}`);
        throw wasmError(ctx.name, `Wasm call must return a result case, actually got a case ${result.name}`);
      },
      $wasm_shutdown: async (args, ctx, sandbox) => {
        const { index } = moduleOf(ctx.name, sandbox, args[0]);
        sandbox.modules[index] = undefined;
        await run(ctx.name, sandbox, { op: "shutdown", id: index }).catch(() => {});
        return undefined;
      },
    },
  };
}
