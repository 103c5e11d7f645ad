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
 * sessions run them. A failed compile is not cached. The hash of a byte array is
 * remembered per array (hashing a 2 MiB app costs ≈2 ms per session otherwise), so an
 * array handed to the cache must not be modified afterwards.
 */
export class ModuleCache {
  readonly #modules = new Map<string, Promise<WebAssembly.Module>>();
  readonly #hashes = new WeakMap<Uint8Array, string>();

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  async compile(bytes: Uint8Array): Promise<CompiledModule> {
    if (bytes.length > this.maxBytes) {
      throw new MachineError(
        "bad_wasm",
        `module of ${bytes.length} bytes exceeds the limit of ${this.maxBytes}`,
      );
    }
    if (!isWasm(bytes)) throw new MachineError("bad_wasm", "not a WebAssembly module (no \\0asm header)");
    let hash = this.#hashes.get(bytes);
    if (hash === undefined) {
      hash = contentHash(bytes);
      this.#hashes.set(bytes, hash);
    }
    let pending = this.#modules.get(hash);
    if (pending === undefined) {
      const key = hash;
      pending = WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>).catch((e: unknown) => {
        this.#modules.delete(key);
        this.#hashes.delete(bytes);
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
