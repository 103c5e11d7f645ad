import { readFileSync } from "node:fs";

/**
 * The smallest host around the real Groovebox that exercises its I/O
 * boundary: copy a block in (mixrt_relocateInput + mixrt_copyIOtoYG), then
 * copy the heap value back out (mixrt_copyYGtoIO + mixrt_relocateOutput).
 */
export class GrooveboxIO {
  private readonly x: Record<string, (...args: number[]) => number>;
  private readonly memory: WebAssembly.Memory;

  constructor(wasmPath: string) {
    const module = new WebAssembly.Module(readFileSync(wasmPath));
    let memory: WebAssembly.Memory | undefined;
    const mem = () => memory!.buffer;
    const wasi = {
      fd_close: () => 0,
      fd_write: () => 0,
      fd_seek: () => 0,
      fd_fdstat_get: () => 0,
      environ_get: () => 0,
      environ_sizes_get: (count: number, size: number) => {
        new Uint32Array(mem(), count, 1)[0] = 0;
        new Uint32Array(mem(), size, 1)[0] = 0;
        return 0;
      },
      random_get: (p: number, n: number) => {
        crypto.getRandomValues(new Uint8Array(mem(), p, n));
        return 0;
      },
      proc_exit: (code: number) => {
        throw new Error(`groovebox exited with ${code}`);
      },
    };
    const clock = {
      clock_time_get: (_id: number, _precision: bigint, out: number) => {
        new BigUint64Array(mem(), out, 1)[0] = BigInt(Date.now()) * 1_000_000n;
        return 0;
      },
    };
    const instance = new WebAssembly.Instance(module, {
      wasi_snapshot_preview1: wasi,
      wasi_shim: clock,
      mixrt_host: { perfnow: () => performance.now() },
    });
    this.x = instance.exports as unknown as Record<string, (...args: number[]) => number>;
    memory = instance.exports.memory as WebAssembly.Memory;
    this.memory = memory;
    this.x._initialize!();
    this.x.srandom!(1);
    this.x.mixrt_mem_init!();
  }

  /** Copies `block` into the VM heap and back out; returns the VM's output block. */
  roundTrip(block: Uint8Array): Uint8Array {
    const x = this.x;
    const nWords = block.length / 4;
    x.mixrt_growIO!(nWords);
    const io = x.mixrt_getIO!();
    new Uint8Array(this.memory.buffer).set(block, io);
    if (!x.mixrt_relocateInput!(io, nWords)) {
      throw new Error(`mixrt_relocateInput refused the block (error ${x.mixrt_getError!()})`);
    }
    const value = x.mixrt_copyIOtoYG!(io, io, io + block.length);
    const n = x.mixrt_copyYGtoIO!(value);
    const out = x.mixrt_getIO!();
    x.mixrt_relocateOutput!(out, n / 4);
    return new Uint8Array(this.memory.buffer).slice(out, out + n);
  }
}
