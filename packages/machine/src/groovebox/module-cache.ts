import { createHash } from "node:crypto";
import { MachineError } from "../errors.js";

export interface CompiledModule {
  hash: string;
  module: WebAssembly.Module;
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

export function isWasm(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && WASM_MAGIC.every((b, i) => bytes[i] === b);
}

export function contentHash(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Compiles each distinct module once: keyed by the SHA-256 of its bytes, so the
 * Groovebox and every app are compiled a single time per process however many
 * sessions run them. A failed compile is not cached.
 */
export class ModuleCache {
  readonly #modules = new Map<string, Promise<WebAssembly.Module>>();

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  async compile(bytes: Uint8Array): Promise<CompiledModule> {
    if (bytes.length > this.maxBytes) {
      throw new MachineError(
        "bad_wasm",
        `module of ${bytes.length} bytes exceeds the limit of ${this.maxBytes}`,
      );
    }
    if (!isWasm(bytes)) throw new MachineError("bad_wasm", "not a WebAssembly module (no \\0asm header)");
    const hash = contentHash(bytes);
    let pending = this.#modules.get(hash);
    if (pending === undefined) {
      pending = WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>).catch((e: unknown) => {
        this.#modules.delete(hash);
        throw new MachineError("bad_wasm", `invalid WebAssembly: ${(e as Error).message}`);
      });
      this.#modules.set(hash, pending);
    }
    return { hash, module: await pending };
  }

  get size(): number {
    return this.#modules.size;
  }
}
