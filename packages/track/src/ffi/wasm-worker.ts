/**
 * The worker thread that runs one session's user Wasm modules (`$wasm_*`), as plain JavaScript
 * (started with `eval`, so it needs no build step and imports nothing). Values cross as RmxCodec
 * bytes encoded and decoded on the main thread; the worker only copies bytes in and out of the
 * module's memory. A module gets no imports (as in the reference host) and must export
 * `memory`, `_rmx_allocate(size)` and `_rmx_deallocate(ptr, size)`; a function takes a pointer to
 * `[u32 length][arguments]` and returns one to `[u32 length][result]`.
 *
 * Requests: `{seq, op: "load", id, bytes, maxMemoryBytes}`, `{seq, op: "fun", id, name}`,
 * `{seq, op: "call", id, name, args, maxResultBytes, maxMemoryBytes}`, `{seq, op: "shutdown", id}`.
 * Answers: `{seq, ok: true, result?}` or `{seq, ok: false, error}`.
 */
export const WASM_WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const instances = new Map();

function memoryCheck(id, exports, limit) {
  const size = exports.memory.buffer.byteLength;
  if (size > limit) {
    instances.delete(id);
    throw new Error("the module's memory grew to " + size + " bytes, over the limit of " + limit + "; it was shut down");
  }
}

async function handle(m) {
  switch (m.op) {
    case "load": {
      const module = await WebAssembly.compile(m.bytes);
      const { exports } = await WebAssembly.instantiate(module, {});
      if (!(exports.memory instanceof WebAssembly.Memory)) throw new Error("the module exports no memory");
      if (typeof exports._rmx_allocate !== "function" || typeof exports._rmx_deallocate !== "function") {
        throw new Error("allocation/deallocation functions unavailable");
      }
      instances.set(m.id, exports);
      memoryCheck(m.id, exports, m.maxMemoryBytes);
      return undefined;
    }
    case "fun": {
      const exports = instances.get(m.id);
      if (!exports) throw new Error("FFI has been shutdown");
      if (typeof exports[m.name] !== "function" || m.name === "_rmx_allocate" || m.name === "_rmx_deallocate") {
        throw new Error("function not found: " + m.name);
      }
      return undefined;
    }
    case "call": {
      const exports = instances.get(m.id);
      if (!exports) throw new Error("FFI has been shutdown");
      const fun = exports[m.name];
      const args = m.args;
      const argsPtr = exports._rmx_allocate(args.length + 4) >>> 0;
      let view = new DataView(exports.memory.buffer);
      if (argsPtr + 4 + args.length > view.byteLength) throw new Error("_rmx_allocate returned a bad pointer");
      view.setUint32(argsPtr, args.length, true);
      new Uint8Array(exports.memory.buffer, argsPtr + 4, args.length).set(args);
      const resPtr = fun(argsPtr) >>> 0;
      memoryCheck(m.id, exports, m.maxMemoryBytes);
      view = new DataView(exports.memory.buffer);
      if (resPtr + 4 > view.byteLength) throw new Error("the function returned a bad pointer");
      const resLen = view.getUint32(resPtr, true);
      if (resLen > m.maxResultBytes) throw new Error("a result of " + resLen + " bytes, over the limit of " + m.maxResultBytes);
      if (resPtr + 4 + resLen > view.byteLength) throw new Error("the function returned a bad result length");
      const result = new Uint8Array(exports.memory.buffer.slice(resPtr + 4, resPtr + 4 + resLen));
      exports._rmx_deallocate(argsPtr, args.length + 4);
      exports._rmx_deallocate(resPtr, resLen + 4);
      return result;
    }
    case "shutdown":
      instances.delete(m.id);
      return undefined;
    default:
      throw new Error("unknown request " + m.op);
  }
}

parentPort.on("message", (m) => {
  handle(m).then(
    (result) => parentPort.postMessage({ seq: m.seq, ok: true, result }),
    (e) => parentPort.postMessage({ seq: m.seq, ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});
`;
