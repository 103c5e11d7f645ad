import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { MixValue } from "@amp/codec";
import type { Logger } from "pino";
import { MachineError } from "./errors.js";
import type { FfiRegistry } from "./ffi/registry.js";
import type {
  Cell,
  FfiCall,
  Interaction,
  LogMessage,
  Machine,
  MachineEvents,
  MachineOptions,
  MachineState,
  MachineUser,
  PanicInfo,
} from "./types.js";

/** How a backend delivers an FFI answer into its VM. */
export interface FfiAnswerSink {
  return(value: MixValue): void;
  abort(message: string): void;
  /** The VM may resume other work; the answer comes later through `return` or `abort`. */
  later(): void;
}

/** A late (async) answer, queued until the VM is idle and can take it. */
interface LateAnswer {
  readonly token: number;
  readonly deliver: () => void;
}

/**
 * The one FFI during which code may be sent and linked into the running VM: it loads a
 * library and answers once the library is linked (the Groovebox JS host's only exception to
 * its driver rules).
 */
export const LOADER_FFI = "$loader_loadLibrary";

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MEMORY_LIMIT = 256 * 1024 * 1024;

/**
 * State rules, events, interaction bookkeeping and FFI dispatch shared by every
 * backend. A backend drives it with `vmInitDone`, `vmExit`, `vmPanic`, `vmTimeout`,
 * `vmCell`, `vmFfiCall` and `vmIdle`, and delivers late FFI answers when asked.
 */
export abstract class MachineBase extends EventEmitter<MachineEvents> implements Machine {
  abstract readonly backend: "groovebox" | "native";
  readonly id: string;
  readonly session: string | undefined;
  readonly user: MachineUser | undefined;
  protected readonly timeoutMs: number;
  protected readonly hardTimeoutMs: number;
  protected readonly memoryLimitBytes: number;
  protected readonly logger: Logger | undefined;
  protected readonly ffi: FfiRegistry | undefined;
  #state: MachineState = "Init";
  #interaction:
    | {
        record: Interaction;
        resolve: (i: Interaction) => void;
        reject: (e: MachineError) => void;
        before: MachineState;
      }
    | undefined;
  #pendingLater = new Map<number, ReturnType<typeof setTimeout>>();
  #lateQueue: LateAnswer[] = [];
  #lateToken = 0;
  #vmIdle = false;
  /** `$loader_loadLibrary` calls whose answer has not reached the VM yet. */
  readonly #loadersPending = new Set<FfiAnswerSink>();
  /**
   * The Groovebox takes a late answer only while idle (it is blocked in a sync FFI
   * otherwise); a native entry awaits its FFI, so it takes late answers at once.
   */
  protected readonly deliversLateAtOnce: boolean = false;

  constructor(options: MachineOptions, idPrefix: string) {
    super();
    // Unguessable: a VM's id names its MQTT topics, which only its owner may use while it lives.
    this.id = `${idPrefix}-${randomUUID()}`;
    const limits = machineLimits(options);
    this.timeoutMs = limits.timeoutMs;
    this.hardTimeoutMs = limits.hardTimeoutMs;
    this.memoryLimitBytes = limits.memoryLimitBytes;
    this.logger = options.logger;
    this.ffi = options.ffi;
    this.session = options.session;
    this.user = options.user;
  }

  get state(): MachineState {
    return this.#state;
  }

  abstract sendCode(codeID: number, bytes: Uint8Array, name?: string): Promise<void>;
  abstract linkCode(codeID: number, initFlag?: boolean): Promise<void>;
  abstract init(env: import("./types.js").InitEnv): Promise<Interaction>;
  abstract enter(
    tag: string,
    module: string,
    entryID: number,
    args: MixValue,
    withResult?: boolean,
  ): Promise<Interaction>;
  abstract destroy(): Promise<void>;

  protected setState(state: MachineState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.emit("state", state);
  }

  /** Throws a typed error unless the machine is in one of the allowed states. */
  protected requireState(op: string, ...allowed: MachineState[]): void {
    if (!allowed.includes(this.#state)) {
      const code = this.#state === "Destroyed" ? "destroyed" : "illegal_state";
      throw new MachineError(
        code,
        `${op} is not allowed in state ${this.#state} (allowed: ${allowed.join(", ")})`,
      );
    }
  }

  /**
   * Code may be sent and linked in Init and Idle, and while this machine's VM waits for the
   * answer of a `$loader_loadLibrary` call (states FFIcall, or Running once it was deferred
   * with `later`). Throws `illegal_state` (`destroyed`) otherwise.
   */
  protected requireCodeState(op: string): void {
    const state = this.#state;
    if (this.#loadersPending.size > 0 && (state === "FFIcall" || state === "Running")) return;
    if (state === "Init" || state === "Idle") return;
    const code = state === "Destroyed" ? "destroyed" : "illegal_state";
    throw new MachineError(
      code,
      `${op} is not allowed in state ${state} (allowed: Init, Idle, or while ${LOADER_FFI} is pending)`,
    );
  }

  /** Starts an interaction; the backend then runs the VM and reports what happens. */
  protected beginInteraction(): Promise<Interaction> {
    const before = this.#state;
    this.setState("Running");
    this.#vmIdle = false;
    return new Promise<Interaction>((resolve, reject) => {
      this.#interaction = {
        record: { cells: [], panics: [], results: [], errors: [], logs: [], ffiCalls: [], timedOut: false },
        resolve,
        reject,
        before,
      };
    });
  }

  /** The interaction could not start or go on, but the VM is intact: back to the state before it. */
  protected failInteraction(error: MachineError): void {
    const current = this.#interaction;
    this.#interaction = undefined;
    this.clearLater();
    this.setState(current?.before ?? "Idle");
    current?.reject(error);
  }

  protected vmInitDone(): void {
    this.passThrough("InitDone", () => this.emit("initDone"));
  }

  protected vmExit(result: MixValue | undefined, withResult: boolean): void {
    if (withResult) this.#interaction?.record.results.push(result);
    this.passThrough("Exit", () => this.emit("exit", result));
  }

  protected vmPanic(panic: PanicInfo): void {
    this.#interaction?.record.panics.push(panic);
    this.logger?.debug({ machine: this.id, panic }, "VM panic");
    this.passThrough("Panic", () => this.emit("panic", panic));
  }

  protected vmTimeout(): void {
    if (this.#interaction) this.#interaction.record.timedOut = true;
    this.passThrough("Timeout", () => this.emit("timeout"));
  }

  protected vmCell(cell: Cell): void {
    this.#interaction?.record.cells.push(cell);
    this.emit("cell", cell);
  }

  protected vmOutputError(error: MixValue): void {
    this.#interaction?.record.errors.push(error);
    this.emit("outputError", error);
  }

  protected vmLog(message: LogMessage): void {
    this.#interaction?.record.logs.push(message);
    this.emit("log", message);
  }

  /** Records an FFI the backend answered itself (machine-level FFIs). */
  protected vmBuiltinFfi(name: string): void {
    this.#interaction?.record.ffiCalls.push(name);
  }

  /**
   * The VM stopped at an FFI call: listeners see it first (and may answer), then the
   * registry answers; an FFI nobody knows is aborted with a message naming it.
   */
  protected vmFfiCall(name: string, args: MixValue[], location: string, sink: FfiAnswerSink): void {
    this.#interaction?.record.ffiCalls.push(name);
    this.setState("FFIcall");
    const call = this.makeCall(name, args, location, name === LOADER_FFI ? this.loaderSink(sink) : sink);
    try {
      this.emit("ffiCall", call);
    } catch (e) {
      if (!call.answered) call.abort(`FFI ${name}: listener failed: ${errorMessage(e)}`);
    }
    if (call.answered) return;
    const handler = this.ffi?.get(name);
    if (handler === undefined) {
      call.abort(`unknown FFI: ${name}`);
      return;
    }
    try {
      const result = handler(args, {
        name,
        machine: this,
        session: this.session,
        user: this.user,
        location,
        logger: this.logger,
      });
      if (result instanceof Promise) call.later(result);
      else call.return(result);
    } catch (e) {
      call.abort(`FFI ${name} failed: ${errorMessage(e)}`);
    }
  }

  /** The VM has nothing to run. The interaction ends unless late FFI answers are due. */
  protected vmIdle(): void {
    this.#vmIdle = true;
    const next = this.#lateQueue.shift();
    if (next !== undefined) {
      this.#vmIdle = false;
      this.setState("Running");
      next.deliver();
      return;
    }
    if (this.#pendingLater.size > 0) return;
    const current = this.#interaction;
    this.#interaction = undefined;
    this.setState("Idle");
    this.emit("idle");
    current?.resolve(current.record);
  }

  /** The VM is gone (memory limit, hard timeout, trap, lost worker). */
  protected vmFatal(error: MachineError, finalState: "Timeout" | "Destroyed"): void {
    if (error.code === "timeout") this.emit("timeout");
    this.clearLater();
    this.setState(finalState);
    const current = this.#interaction;
    this.#interaction = undefined;
    this.logger?.warn({ machine: this.id, code: error.code, err: error.message }, "VM ended");
    if (this.listenerCount("fatal") > 0) this.emit("fatal", error);
    current?.reject(error);
  }

  /** Ends the machine from the outside (destroy). */
  protected markDestroyed(): void {
    this.clearLater();
    this.setState("Destroyed");
    const current = this.#interaction;
    this.#interaction = undefined;
    current?.reject(new MachineError("destroyed", "the machine was destroyed during the interaction"));
  }

  private clearLater(): void {
    for (const timer of this.#pendingLater.values()) clearTimeout(timer);
    this.#pendingLater.clear();
    this.#lateQueue = [];
    this.#loadersPending.clear();
  }

  private passThrough(state: MachineState, emit: () => void): void {
    this.setState(state);
    emit();
    if (this.#state === state) this.setState("Running");
  }

  /** Keeps code loading open from the loader call until its answer goes to the VM. */
  private loaderSink(sink: FfiAnswerSink): FfiAnswerSink {
    const pending = this.#loadersPending;
    const open: FfiAnswerSink = {
      return: (value) => {
        pending.delete(open);
        sink.return(value);
      },
      abort: (message) => {
        pending.delete(open);
        sink.abort(message);
      },
      later: () => sink.later(),
    };
    pending.add(open);
    return open;
  }

  private makeCall(name: string, args: MixValue[], location: string, sink: FfiAnswerSink): FfiCall {
    let answered = false;
    const claim = (): void => {
      if (answered) throw new MachineError("illegal_state", `FFI ${name} was already answered`);
      answered = true;
      if (this.#state === "FFIcall") this.setState("Running");
    };
    return {
      name,
      args,
      location,
      get answered() {
        return answered;
      },
      return: (value) => {
        claim();
        sink.return(value);
      },
      abort: (message) => {
        claim();
        sink.abort(message);
      },
      later: (promise) => {
        claim();
        const token = ++this.#lateToken;
        // An async FFI that never settles must not hold the session forever.
        const abort = (message: string) => this.queueLate({ token, deliver: () => sink.abort(message) });
        const timer = setTimeout(() => abort(`FFI ${name} timed out`), this.timeoutMs);
        this.#pendingLater.set(token, timer);
        promise.then(
          (value) => this.queueLate({ token, deliver: () => sink.return(value) }),
          (e: unknown) => abort(`FFI ${name} failed: ${errorMessage(e)}`),
        );
        sink.later();
      },
    };
  }

  private queueLate(answer: LateAnswer): void {
    const timer = this.#pendingLater.get(answer.token);
    if (timer === undefined) return; // already answered (timed out) or machine ended
    clearTimeout(timer);
    this.#pendingLater.delete(answer.token);
    if (this.deliversLateAtOnce) {
      answer.deliver();
    } else if (this.#vmIdle && this.#interaction !== undefined) {
      this.#vmIdle = false;
      this.setState("Running");
      answer.deliver();
    } else {
      this.#lateQueue.push(answer);
    }
  }
}

/** The limits a machine runs under: its options, or the defaults. Throws `bad_options`. */
export function machineLimits(options: MachineOptions): {
  timeoutMs: number;
  hardTimeoutMs: number;
  memoryLimitBytes: number;
} {
  const timeoutMs = positive(options.timeoutMs, DEFAULT_TIMEOUT_MS, "timeoutMs");
  return {
    timeoutMs,
    hardTimeoutMs: positive(options.hardTimeoutMs, timeoutMs + 2000, "hardTimeoutMs"),
    memoryLimitBytes: positive(options.memoryLimitBytes, DEFAULT_MEMORY_LIMIT, "memoryLimitBytes"),
  };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new MachineError("bad_options", `${name} must be a positive number`);
  return value;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
