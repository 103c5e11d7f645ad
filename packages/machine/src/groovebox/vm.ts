import { decodeRmx, encodeRmx } from "@amp/codec";
import { MachineError } from "../errors.js";
import { checkGrooveboxModule, readAppCode } from "./abi.js";
import type { LocalAnswer } from "./protocol.js";
import { type WasiHost, wasiImports } from "./wasi.js";

/** Groovebox states (`mixrt_getState`). */
enum VmState {
  Init = 0,
  Running = 1,
  InitDone = 2,
  Entry = 3,
  Exit = 4,
  Idle = 5,
  FfiCall = 6,
  Panic = 10,
  Timeout = 11,
}

/** The request queue an entry runs on (`enum mixrt_reqqueue`). */
const QUEUE_DRIVER = 1;
/** Error code for a user error (what an aborted FFI raises in the coroutine). */
const ERR_USER = 3;

type Fn = (...args: number[]) => number;
interface GrooveboxExports {
  memory: WebAssembly.Memory;
  __indirect_function_table: WebAssembly.Table;
  [name: string]: unknown;
}

/** Something the VM reported while running, in order. Values are RmxCodec I/O blocks. */
export type VmEvent =
  | { t: "initDone" }
  | { t: "exit"; withResult: boolean; result: Uint8Array | undefined }
  | { t: "panic"; code: number; message: string; backtrace: string; location: string }
  | { t: "timeout" }
  | { t: "cell"; args: Uint8Array }
  | { t: "outputError"; args: Uint8Array }
  | { t: "log"; args: Uint8Array }
  | { t: "builtin"; name: string };

/** Where a run stopped: idle, or at an FFI the host must answer. */
export type VmStop =
  | { type: "idle" }
  | { type: "ffi"; coroutine: number; name: string; args: Uint8Array; location: string };

export interface VmRun {
  events: VmEvent[];
  stop: VmStop;
}

export interface VmOptions {
  /** Interaction timeout handed to `mixrt_setTimeoutForInteraction`, ms. */
  timeoutMs: number;
  memoryLimitBytes: number;
  /** The build number of the Groovebox (the wasm does not carry it). */
  build: number;
  onLine?: (line: string) => void;
}

/** Thrown (from inside the VM, through the clock shim) when memory passes the limit. */
export class MemoryLimitExceeded extends Error {}

// The answers to machine-level FFIs, encoded once.
const NULL_BLOCK = encodeRmx(null);
const TRUE_BLOCK = encodeRmx(true);
const FALSE_BLOCK = encodeRmx(false);
const EMPTY_LIST_BLOCK = encodeRmx([]);

/**
 * One Groovebox instance, driven synchronously: every request runs the VM with
 * `mixrt_runYG` until it is idle or stops at an FFI the host must answer, and returns
 * what happened on the way. Machine-level FFIs (cells, errors, logs, init-env
 * queries) are answered here without leaving the loop.
 */
export class GrooveboxVM {
  readonly #x: GrooveboxExports;
  readonly #fn: Record<string, Fn>;
  readonly #memory: WebAssembly.Memory;
  readonly #table: WebAssembly.Table;
  #options: VmOptions;
  readonly #apps = new Map<number, { instance: WebAssembly.Instance | undefined; name: string }>();
  #dead: MachineError | undefined;
  /** Host FFIs answered here, without a trip to the main thread (see `setLocalAnswers`). */
  #local: ReadonlyMap<string, LocalAnswer> = new Map();

  private constructor(instance: WebAssembly.Instance, host: WasiHost, options: VmOptions) {
    this.#x = instance.exports as unknown as GrooveboxExports;
    this.#fn = instance.exports as unknown as Record<string, Fn>;
    this.#memory = this.#x.memory;
    this.#table = this.#x.__indirect_function_table;
    this.#options = options;
    host.memory = this.#memory;
  }

  /** Instantiates a compiled Groovebox module and prepares it (initialize, seed, memory, timeout). */
  static create(module: WebAssembly.Module, options: VmOptions): GrooveboxVM {
    checkGrooveboxModule(module);
    let vm: GrooveboxVM | undefined;
    const host: WasiHost = {
      memory: undefined,
      onLine: (line) => options.onLine?.(line),
      onClock: () => vm?.checkMemory(),
    };
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(module, wasiImports(host));
    } catch (e) {
      throw new MachineError("not_groovebox", `cannot instantiate the Groovebox: ${(e as Error).message}`);
    }
    vm = new GrooveboxVM(instance, host, options);
    vm.call("_initialize");
    vm.call("srandom", Math.floor(Math.random() * 0x7fffffff));
    if (typeof vm.#fn.mixrt_setDebugFlags === "function") vm.call("mixrt_setDebugFlags", 0);
    vm.call("mixrt_mem_init");
    vm.call("mixrt_setTimeoutForInteraction", options.timeoutMs);
    return vm;
  }

  /** Applies per-session limits to a VM that was created ahead of time. */
  configure(settings: { timeoutMs: number; memoryLimitBytes: number }): void {
    this.alive();
    this.#options = { ...this.#options, ...settings };
    this.call("mixrt_setTimeoutForInteraction", settings.timeoutMs);
  }

  get memoryBytes(): number {
    return this.#memory.buffer.byteLength;
  }

  /** Whether linear memory holds `needle` anywhere (used to prove sessions leave nothing behind). */
  memoryContains(needle: Uint8Array): boolean {
    return needle.length > 0 && Buffer.from(this.#memory.buffer).indexOf(needle) >= 0;
  }

  /** Loads compiled app code: consts block, table growth, instantiate, `mix_initAdd`. */
  addCode(codeID: number, module: WebAssembly.Module, name: string): void {
    this.alive();
    if (this.#apps.has(codeID)) throw new MachineError("unknown_code", `code ${codeID} was already sent`);
    const info = readAppCode(module, this.#options.build);
    const consts = this.call("malloc", Math.max(info.constsLength, 1));
    if (consts === 0) throw this.fail(new MachineError("memory_limit", "cannot allocate the consts block"));
    const tableBase = this.#table.length;
    this.guard(() => this.#table.grow(info.tableLength));
    const mixrt: Record<string, unknown> = {};
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.module !== "mixrt") continue;
      const f = this.#x[imp.name];
      if (typeof f !== "function") {
        throw new MachineError(
          "not_groovebox",
          `the app needs mixrt.${imp.name}, which this Groovebox lacks`,
        );
      }
      mixrt[imp.name] = f;
    }
    const instance = this.guard(
      () =>
        new WebAssembly.Instance(module, {
          env: { memory: this.#memory, table: this.#table, mix_consts: consts, tableBase },
          mixrt: mixrt as WebAssembly.ModuleImports,
        }),
    );
    this.#apps.set(codeID, { instance, name });
    const initAdd = instance.exports.mix_initAdd;
    if (typeof initAdd === "function") this.guard(() => initAdd());
    this.guard(() => this.checkMemory());
  }

  /** Loads Mix bytecode (code that is not Wasm) through the interpreter. */
  addBytecode(codeID: number, bytes: Uint8Array, name: string): void {
    this.alive();
    if (typeof this.#fn.mixrt_interpreterAddCode2 !== "function") {
      throw new MachineError(
        "bad_wasm",
        "not a WebAssembly module, and this Groovebox has no bytecode interpreter",
      );
    }
    const ptr = this.alloc(bytes);
    const unit = this.allocString(name);
    const ok = this.call("mixrt_interpreterAddCode2", ptr, ptr + bytes.length, unit, unit, 0);
    if (ok === 0) throw new MachineError("bad_wasm", `bytecode rejected: ${this.errorMessage()}`);
    this.#apps.set(codeID, { instance: undefined, name });
  }

  /** Links code sent before (`mix_initLink`); `initFlag` marks its library for initialization. */
  linkCode(codeID: number, initFlag: boolean): void {
    this.alive();
    const app = this.#apps.get(codeID);
    if (app === undefined) throw new MachineError("unknown_code", `code ${codeID} was never sent`);
    if (app.instance === undefined) {
      const name = this.allocString(app.name);
      const ok = this.call("mixrt_interpreterLinkUnitYG", name);
      this.call("free", name);
      if (ok === 0) throw new MachineError("bad_wasm", `cannot link bytecode: ${this.errorMessage()}`);
    } else {
      const link = app.instance.exports.mix_initLink ?? app.instance.exports.mix_init;
      this.guard(() => (link as () => void)());
    }
    if (initFlag) {
      const name = this.allocString(app.name);
      const ok = this.call("mixrt_setInitLibraryRecursively", name);
      this.call("free", name);
      if (ok === 0)
        throw new MachineError("unknown_code", `cannot mark ${app.name} for init: ${this.errorMessage()}`);
    }
    this.guard(() => this.checkMemory());
  }

  /** Starts initialization with an encoded init environment and runs to the next stop. */
  init(env: Uint8Array): VmRun {
    this.beginInit(env);
    return this.run();
  }

  /** Requests initialization and extracts the init environment, without running yet. */
  beginInit(env: Uint8Array): void {
    this.alive();
    const state = this.call("mixrt_getState");
    if (![VmState.Init, VmState.InitDone, VmState.Exit, VmState.Idle].includes(state)) {
      throw new MachineError("illegal_state", `the VM cannot init in state ${state}`);
    }
    this.call("mixrt_reqInit");
    this.call("mixrt_setReqQueue", QUEUE_DRIVER);
    const io = this.copyIn(env);
    const value = this.call("mixrt_copyIOtoYG", io, io, io + env.length);
    if (value === 0) throw new MachineError("bad_options", "the VM rejected the init environment");
    this.call("mixrt_initEnvExtract", value);
  }

  /** What the current init environment answers to the init-time queries apps make. */
  initFlags(): { sync: boolean; mqtt: boolean } {
    return {
      sync: this.call("mixrt_initEnvGetSyncProtocol") > 0,
      mqtt: this.call("mixrt_initEnvGetMQTTEnabled") !== 0,
    };
  }

  /** Host FFIs (standard hooks whose answer does not depend on the session) answered in place. */
  setLocalAnswers(answers: ReadonlyMap<string, LocalAnswer>): void {
    this.#local = answers;
  }

  /** Runs the entry `tag` of `module` with encoded args. Throws `no_such_entry` when it does not exist. */
  enter(tag: string, module: string, entryID: number, args: Uint8Array, withResult: boolean): VmRun {
    this.alive();
    const tagPtr = this.allocString(tag);
    const modPtr = this.allocString(module);
    const entry = this.call("mixrt_findEntry", tagPtr, modPtr);
    this.call("free", tagPtr);
    this.call("free", modPtr);
    if (entry === 0)
      throw new MachineError("no_such_entry", `no entry ${tag} in module ${JSON.stringify(module)}`);
    this.call("mixrt_reqEntry", entry, entryID, QUEUE_DRIVER, withResult ? 1 : 0);
    this.copyIn(args);
    return this.run();
  }

  /** Answers the FFI call of `coroutine` with an encoded value. */
  ffiReturn(coroutine: number, value: Uint8Array): VmRun {
    this.alive();
    this.call("mixrt_reqReturn", coroutine);
    this.copyIn(value);
    return this.run();
  }

  /** Aborts the FFI call of `coroutine`: the coroutine panics with `message`. */
  ffiAbort(coroutine: number, message: string): VmRun {
    this.alive();
    if (this.call("mixrt_co_exists", coroutine) === 0) return this.run();
    const msg = this.allocString(message);
    this.call("mixrt_reqRunning");
    this.call("mixrt_setErrorMessage", ERR_USER, msg);
    this.call("free", msg);
    this.call("mixrt_reqPanicCoroutine", coroutine, 0);
    this.call("mixrt_abortCoroutinePrimaryYG", coroutine);
    return this.run();
  }

  /** The FFI will be answered later: let the VM run its other coroutines. */
  ffiLater(): VmRun {
    this.alive();
    this.call("mixrt_reqRunning");
    return this.run();
  }

  /** Runs until idle or an FFI the host must answer. */
  run(): VmRun {
    const events: VmEvent[] = [];
    for (;;) {
      this.call("mixrt_runYG");
      this.guard(() => this.checkMemory());
      const state = this.call("mixrt_getState");
      switch (state) {
        case VmState.Idle:
          return { events, stop: { type: "idle" } };
        case VmState.InitDone:
          events.push({ t: "initDone" });
          break;
        case VmState.Exit: {
          const withResult = this.call("mixrt_getWithResult") !== 0;
          const result = withResult ? this.copyOut(this.call("mixrt_getResult")) : undefined;
          events.push({ t: "exit", withResult, result });
          break;
        }
        case VmState.Panic:
          events.push(this.panicEvent());
          break;
        case VmState.Timeout:
          events.push({ t: "timeout" });
          break;
        case VmState.FfiCall: {
          const stop = this.ffiStop(events);
          if (stop !== undefined) return { events, stop };
          continue; // answered here; the VM already has its return value
        }
        default:
          throw this.fail(new MachineError("vm_trap", `the VM stopped in unexpected state ${state}`));
      }
      this.call("mixrt_reqRunning");
    }
  }

  /** Answers machine-level FFIs in place; returns a stop for every other FFI. */
  private ffiStop(events: VmEvent[]): VmStop | undefined {
    const name = this.cString(this.call("mixrt_getBuiltin"), 255);
    const coroutine = this.call("mixrt_getCoroutine");
    let answer: Uint8Array;
    switch (name) {
      case "$outputWithVersion":
        events.push({ t: "cell", args: this.argsBlock() });
        answer = NULL_BLOCK;
        break;
      case "$outputError":
        events.push({ t: "outputError", args: this.argsBlock() });
        answer = NULL_BLOCK;
        break;
      case "$log":
        events.push({ t: "log", args: this.argsBlock() });
        answer = NULL_BLOCK;
        break;
      case "$isSyncEnabled":
        answer = this.call("mixrt_initEnvGetSyncProtocol") > 0 ? TRUE_BLOCK : FALSE_BLOCK;
        break;
      case "$mqtt_available":
        answer = this.call("mixrt_initEnvGetMQTTEnabled") !== 0 ? TRUE_BLOCK : FALSE_BLOCK;
        break;
      default: {
        const local = this.#local.get(name);
        if (local === undefined) {
          return { type: "ffi", coroutine, name, args: this.argsBlock(), location: this.location() };
        }
        answer = this.localAnswer(local);
      }
    }
    if (name !== "$outputWithVersion" && name !== "$outputError" && name !== "$log") {
      events.push({ t: "builtin", name });
    }
    this.call("mixrt_reqReturn", coroutine);
    this.copyIn(answer);
    return undefined;
  }

  private localAnswer(kind: LocalAnswer): Uint8Array {
    switch (kind) {
      case "null":
        return NULL_BLOCK;
      case "emptyList":
        return EMPTY_LIST_BLOCK;
      case "firstArg": {
        const args = decodeRmx(this.argsBlock());
        return encodeRmx(Array.isArray(args) ? args[0] : args);
      }
    }
  }

  private argsBlock(): Uint8Array {
    return this.copyOut(this.call("mixrt_getResult")) ?? NULL_BLOCK.slice();
  }

  private panicEvent(): VmEvent {
    const coroutine = this.call("mixrt_getCoroutine");
    const code = this.call("mixrt_getError");
    const message = this.cString(this.call("mixrt_getErrorMessage"), 65535);
    const btPtr = this.call("mixrt_co_backtrace", coroutine);
    const backtrace = btPtr === 0 ? "" : this.cString(btPtr, 65535);
    if (btPtr !== 0) this.call("free", btPtr);
    return { t: "panic", code, message, backtrace, location: this.location() };
  }

  private location(): string {
    const unit = this.cString(this.call("mixrt_locUnitID"), 255);
    return `${unit}/${this.call("mixrt_locUnitPC")}/${this.call("mixrt_locSecInstr")}`;
  }

  /** Copies an RmxCodec block into the I/O area and relocates it; returns its address. */
  private copyIn(block: Uint8Array): number {
    if (block.length === 0 || block.length % 8 !== 0) {
      throw new MachineError(
        "bad_args",
        `an RmxCodec block must be a non-empty multiple of 8 bytes, got ${block.length}`,
      );
    }
    const nWords = block.length / 4;
    this.call("mixrt_growIO", nWords);
    const io = this.call("mixrt_getIO");
    new Uint8Array(this.#memory.buffer, io, block.length).set(block);
    if (this.call("mixrt_relocateInput", io, nWords) === 0) {
      throw new MachineError("bad_args", `the VM rejected the value (error ${this.call("mixrt_getError")})`);
    }
    return io;
  }

  /** Copies a VM value out as a relocated RmxCodec block. */
  private copyOut(ptr: number): Uint8Array | undefined {
    const nBytes = this.call("mixrt_copyYGtoIO", ptr);
    if (nBytes === 0) return undefined;
    const io = this.call("mixrt_getIO");
    this.call("mixrt_relocateOutput", io, nBytes / 4);
    return new Uint8Array(this.#memory.buffer, io, nBytes).slice();
  }

  private cString(ptr: number, max: number): string {
    if (ptr === 0) return "";
    const mem = new Uint8Array(this.#memory.buffer);
    let end = ptr;
    while (end < mem.length && end - ptr < max && mem[end] !== 0) end++;
    return new TextDecoder().decode(mem.subarray(ptr, end));
  }

  private alloc(bytes: Uint8Array): number {
    const ptr = this.call("malloc", bytes.length + 1);
    if (ptr === 0) throw this.fail(new MachineError("memory_limit", "the VM is out of memory"));
    new Uint8Array(this.#memory.buffer, ptr, bytes.length).set(bytes);
    return ptr;
  }

  private allocString(s: string): number {
    const bytes = new TextEncoder().encode(s);
    const ptr = this.alloc(bytes);
    new Uint8Array(this.#memory.buffer)[ptr + bytes.length] = 0;
    return ptr;
  }

  private errorMessage(): string {
    return this.cString(this.call("mixrt_getErrorMessage"), 65535);
  }

  private checkMemory(): void {
    if (this.#memory.buffer.byteLength > this.#options.memoryLimitBytes) throw new MemoryLimitExceeded();
  }

  private call(name: string, ...args: number[]): number {
    const f = this.#fn[name];
    if (typeof f !== "function") throw new MachineError("not_groovebox", `the Groovebox lacks ${name}`);
    return this.guard(() => f(...args));
  }

  /** Runs code inside the VM; a trap or the memory limit ends the VM for good. */
  private guard<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof MachineError) throw e;
      if (e instanceof MemoryLimitExceeded) {
        throw this.fail(
          new MachineError(
            "memory_limit",
            `the VM used ${this.memoryBytes} bytes, over the limit of ${this.#options.memoryLimitBytes}`,
          ),
        );
      }
      throw this.fail(new MachineError("vm_trap", `the VM trapped: ${(e as Error).message ?? String(e)}`));
    }
  }

  private fail(error: MachineError): MachineError {
    this.#dead = error;
    return error;
  }

  /** The fatal error that ended this VM, if any. */
  get dead(): MachineError | undefined {
    return this.#dead;
  }

  private alive(): void {
    if (this.#dead !== undefined) throw this.#dead;
  }
}
