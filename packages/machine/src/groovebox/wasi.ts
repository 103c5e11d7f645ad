/**
 * The WASI imports a Groovebox build needs (`wasi_snapshot_preview1`) and the clock
 * shim (`wasi_shim.clock_time_get`, which takes the precision as two i32 halves and
 * writes the time as u64 nanoseconds). No files, no environment: stdout/stderr lines
 * go to `onLine`, everything else is refused with a WASI error number.
 */
export interface WasiHost {
  /** The instance's memory; set once the instance exists. */
  memory: WebAssembly.Memory | undefined;
  /** Called for every complete line written to fd 1 or 2. */
  onLine(line: string): void;
  /** Called on every clock read, which a running VM does regularly: a place to enforce limits. */
  onClock(): void;
}

const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;
const ERRNO_INVAL = 28;
const ERRNO_SPIPE = 70;
const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;

export class WasiExit extends Error {
  constructor(readonly exitCode: number) {
    super(`the VM called proc_exit(${exitCode})`);
  }
}

export function wasiImports(host: WasiHost): WebAssembly.Imports {
  let pending = "";
  const decoder = new TextDecoder();
  const mem = (): WebAssembly.Memory => {
    if (host.memory === undefined) throw new Error("WASI call before the instance exists");
    return host.memory;
  };
  const view = (): DataView => new DataView(mem().buffer);

  return {
    wasi_snapshot_preview1: {
      fd_write(fd: number, iovs: number, iovsLen: number, nwritten: number): number {
        const dv = view();
        let total = 0;
        for (let i = 0; i < iovsLen; i++) {
          const ptr = dv.getUint32(iovs + i * 8, true);
          const len = dv.getUint32(iovs + i * 8 + 4, true);
          total += len;
          if (fd === 1 || fd === 2) pending += decoder.decode(new Uint8Array(mem().buffer, ptr, len));
        }
        let nl = pending.indexOf("\n");
        while (nl >= 0) {
          host.onLine(pending.slice(0, nl));
          pending = pending.slice(nl + 1);
          nl = pending.indexOf("\n");
        }
        if (pending.length > 64 * 1024) pending = pending.slice(-1024); // a runaway line must not grow forever
        dv.setUint32(nwritten, total, true);
        return fd === 1 || fd === 2 ? ERRNO_SUCCESS : ERRNO_BADF;
      },
      fd_close: (): number => ERRNO_SUCCESS,
      fd_seek: (): number => ERRNO_SPIPE,
      fd_fdstat_get: (): number => ERRNO_BADF,
      environ_sizes_get(countPtr: number, sizePtr: number): number {
        const dv = view();
        dv.setUint32(countPtr, 0, true);
        dv.setUint32(sizePtr, 0, true);
        return ERRNO_SUCCESS;
      },
      environ_get: (): number => ERRNO_SUCCESS,
      random_get(ptr: number, len: number): number {
        // getRandomValues refuses views larger than 64 KiB and views on wasm memory in some engines.
        const out = new Uint8Array(mem().buffer, ptr, len);
        for (let off = 0; off < len; off += 65536) {
          const chunk = new Uint8Array(Math.min(65536, len - off));
          crypto.getRandomValues(chunk);
          out.set(chunk, off);
        }
        return ERRNO_SUCCESS;
      },
      proc_exit(code: number): never {
        throw new WasiExit(code);
      },
    },
    wasi_shim: {
      clock_time_get(clockId: number, _precisionLo: number, _precisionHi: number, ptr: number): number {
        host.onClock();
        let ns: bigint;
        if (clockId === CLOCK_REALTIME) ns = BigInt(Date.now()) * 1_000_000n;
        else if (clockId === CLOCK_MONOTONIC) ns = BigInt(Math.round(performance.now() * 1e6));
        else return ERRNO_INVAL;
        view().setBigUint64(ptr, ns, true);
        return ERRNO_SUCCESS;
      },
    },
  };
}
