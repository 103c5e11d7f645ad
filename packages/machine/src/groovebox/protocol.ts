import type { MachineErrorCode } from "../errors.js";
import type { VmRun } from "./vm.js";

/** App code a VM loads at creation (so pre-created VMs can hold it already). */
export interface CodeSpec {
  codeID: number;
  /** Content hash of the module; the worker caches modules by it. */
  hash: string;
  name: string;
  initFlag: boolean;
}

export interface VmSettings {
  timeoutMs: number;
  memoryLimitBytes: number;
  build: number;
}

/** How the worker answers a standard hook itself (the hook's answer does not depend on the session). */
export type LocalAnswer = "null" | "firstArg" | "emptyList";

/** Main thread → worker. Every request gets exactly one reply with the same `seq`. */
export type WorkerRequest = { seq: number; vm: number } & (
  | { op: "create"; gbHash: string; settings: VmSettings; code: CodeSpec[]; warm: number }
  | { op: "module"; hash: string; module: WebAssembly.Module }
  | { op: "sendCode"; codeID: number; hash: string; name: string }
  | { op: "sendBytecode"; codeID: number; bytes: Uint8Array; name: string }
  | { op: "linkCode"; codeID: number; initFlag: boolean }
  | {
      op: "warm";
      gbHash: string;
      settings: VmSettings;
      code: CodeSpec[];
      target: number;
      /** Encoded init environment spares are pre-initialized with (none: linked only). */
      initEnv?: Uint8Array;
      /** Build the spares before answering (otherwise in the background). */
      now: boolean;
    }
  | { op: "init"; env: Uint8Array; local?: Record<string, LocalAnswer> }
  | {
      op: "enter";
      tag: string;
      module: string;
      entryID: number;
      args: Uint8Array;
      withResult: boolean;
      local?: Record<string, LocalAnswer>;
    }
  | { op: "return"; coroutine: number; value: Uint8Array }
  | { op: "abort"; coroutine: number; message: string }
  | { op: "later" }
  | { op: "destroy" }
  | { op: "memory" }
  | { op: "scan"; needle: Uint8Array }
  | { op: "stats" }
  /** A warmed app's new spare target: surplus spares are dropped, missing ones built in the background. */
  | { op: "target"; gbHash: string; code: CodeSpec[]; target: number }
);

/** What a worker holds in memory (its isolate's heap and its VMs' linear memory), in bytes. */
export interface WorkerMemory {
  /** VMs serving sessions, and spares. */
  vms: number;
  spares: number;
  /** Linear memory of the sessions' VMs, and of the spares. */
  vmLinear: number;
  spareLinear: number;
  /** The worker isolate's V8 heap (used, and committed), and what it allocated with malloc. */
  heapUsed: number;
  heapTotal: number;
  malloced: number;
  external: number;
}

/** The worker's answer to one request. */
export type RequestReply =
  | { seq: number; ok: true; run?: VmRun; value?: number | boolean; memory?: WorkerMemory }
  | { seq: number; ok: false; code: MachineErrorCode; message: string; fatal: boolean };

/** Worker → main thread: replies, output lines of a VM, and how many spares a worker holds (seq -1). */
export type WorkerReply =
  | RequestReply
  | { seq: -1; ok: true; line: string; vm: number }
  | { seq: -1; ok: true; spares: string; count: number; vm: 0 }
  /** Something that went wrong outside a request (a spare that could not be built), for the log. */
  | { seq: -1; ok: true; warning: string; err: string; vm: 0 };

/** The key spares are kept under: the Groovebox and the app code they hold. */
export function stashKey(gbHash: string, code: CodeSpec[]): string {
  return [gbHash, ...code.map((c) => `${c.codeID}:${c.hash}:${c.initFlag ? 1 : 0}`)].join("|");
}
