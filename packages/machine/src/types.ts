import type { MixValue } from "@amp/codec";
import type { Logger } from "pino";
import type { MachineError } from "./errors.js";
import type { FfiRegistry } from "./ffi/registry.js";

/**
 * Machine states, modeled on the Groovebox driver protocol.
 *
 * `Init` after create (code may be sent and linked, then `init`), `Running` while
 * the VM executes, and the states it stops in. `InitDone`, `Exit`, `Panic` and
 * `Timeout` are passed through during an interaction (reported as events, then the
 * VM resumes); an interaction ends in `Idle`. `FFIcall` while an FFI is answered.
 * `Timeout` is final when the hard wall-clock guard ended the VM; `Destroyed` is final.
 */
export type MachineState =
  | "Init"
  | "Running"
  | "InitDone"
  | "Idle"
  | "FFIcall"
  | "Exit"
  | "Panic"
  | "Timeout"
  | "Destroyed";

/** The user a machine runs for, structurally compatible with `@amp/auth`'s AmpUser. */
export interface MachineUser {
  readonly id: string;
  readonly [key: string]: unknown;
}

/** The init environment (Groovebox `initEnvExtract`). */
export interface InitEnv {
  org: string;
  workspace: string;
  app: string;
  user: string;
  /** The session's access token; crosses as a Token value enabled for same-org auth and tostring. */
  token: string;
  baseURL: string;
  session?: string;
  actionPrefix?: string;
  /** Standalone: no amp behind the VM (default false). */
  standalone?: boolean;
  isMQTTEnabled?: boolean;
  isAgent?: boolean;
  isBuilder?: boolean;
  userIsVerified?: boolean;
  /**
   * Client variables (`client_width`, `client_os`, ...). Real apps read them while
   * rendering and panic with ERR_NO_UNDEFINED_CONTENT when one is missing, so every
   * known one gets a default; these override.
   */
  client?: Record<string, MixValue>;
}

/** A cell the VM emitted through `$outputWithVersion(name, version, value)`. */
export interface Cell {
  name: string;
  version: string;
  value: MixValue;
}

export interface PanicInfo {
  /** The Groovebox error code (e.g. 3 = user error). */
  code: number;
  message: string;
  /** Comma-separated `unit/pc/instr` locations, innermost first. */
  backtrace: string;
  /** `unit/pc/instr` of the panic. */
  location: string;
}

export interface LogMessage {
  severity: string;
  text: string;
}

/** What one interaction (init or enter) produced, in order of production. */
export interface Interaction {
  cells: Cell[];
  panics: PanicInfo[];
  /** Results of entries that exited with a result (`withResult`). */
  results: MixValue[];
  errors: MixValue[];
  logs: LogMessage[];
  /** Names of the FFIs called, in call order. */
  ffiCalls: string[];
  /** True when the VM reported an interaction timeout (the VM itself stays usable). */
  timedOut: boolean;
}

/** An FFI call waiting for its answer. Exactly one of the three answers counts. */
export interface FfiCall {
  readonly name: string;
  readonly args: MixValue[];
  /** `unit/pc/instr` of the call site. */
  readonly location: string;
  readonly answered: boolean;
  return(value: MixValue): void;
  abort(message: string): void;
  /** The VM resumes other work; the promise's value (or rejection → abort) arrives later. */
  later(promise: Promise<MixValue>): void;
}

export interface MachineEvents {
  state: [state: MachineState];
  initDone: [];
  exit: [result: MixValue | undefined];
  idle: [];
  /** Listeners may answer a call whose name the registry does not know; otherwise it is aborted. */
  ffiCall: [call: FfiCall];
  cell: [cell: Cell];
  outputError: [error: MixValue];
  log: [message: LogMessage];
  panic: [panic: PanicInfo];
  timeout: [];
  /** The machine ended abnormally (memory limit, hard timeout, trap, worker lost). */
  fatal: [error: MachineError];
}

export interface MachineOptions {
  /** Interaction timeout handed to the VM (`setTimeoutForInteraction`), ms. Default 10 000. */
  timeoutMs?: number;
  /**
   * Hard wall-clock limit for one run of the VM without yielding to the host, ms.
   * Past it the VM is ended and the end reported as a timeout. Default timeoutMs + 2000.
   */
  hardTimeoutMs?: number;
  /** Linear memory limit in bytes; past it the VM is ended. Default 256 MiB. */
  memoryLimitBytes?: number;
  logger?: Logger;
  /** Named FFI handlers. Unknown FFIs (not in the registry, not answered by an ffiCall listener) are aborted. */
  ffi?: FfiRegistry;
  /** Handed to FFI handlers as `ctx.session`. */
  session?: string;
  /** Handed to FFI handlers as `ctx.user`. */
  user?: MachineUser;
}

/** The backend-independent Mix VM. */
export interface Machine {
  readonly id: string;
  readonly backend: "groovebox" | "native";
  readonly state: MachineState;
  readonly session: string | undefined;
  readonly user: MachineUser | undefined;
  /**
   * Loads app code under `codeID` (compiled Mix Wasm for the Groovebox; a module name for the
   * native backend). `name` is the unit name `linkCode(codeID, true)` initializes (Groovebox;
   * default `code-<codeID>`). States Init and Idle, and while a `$loader_loadLibrary` call of
   * this machine waits for its answer (FFIcall, or Running once deferred with `later`): the
   * library is loaded into the running VM, then the FFI answered.
   */
  sendCode(codeID: number, bytes: Uint8Array, name?: string): Promise<void>;
  /** Links code sent before; `initFlag` marks its library for initialization. Same states as `sendCode`. */
  linkCode(codeID: number, initFlag?: boolean): Promise<void>;
  /** Runs initialization with the environment; resolves when the VM is Idle. */
  init(env: InitEnv): Promise<Interaction>;
  /** Runs an entry (e.g. `load`, `invoke3`); resolves when the VM is Idle and no FFI is pending. */
  enter(
    tag: string,
    module: string,
    entryID: number,
    args: MixValue,
    withResult?: boolean,
  ): Promise<Interaction>;
  destroy(): Promise<void>;
  on<E extends keyof MachineEvents>(event: E, listener: (...args: MachineEvents[E]) => void): this;
  off<E extends keyof MachineEvents>(event: E, listener: (...args: MachineEvents[E]) => void): this;
  once<E extends keyof MachineEvents>(event: E, listener: (...args: MachineEvents[E]) => void): this;
}
