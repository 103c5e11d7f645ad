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

/** Main thread → worker. Every request gets exactly one reply with the same `seq`. */
export type WorkerRequest = { seq: number; vm: number } & (
  | { op: "create"; gbHash: string; settings: VmSettings; code: CodeSpec[]; warm: number }
  | { op: "module"; hash: string; module: WebAssembly.Module }
  | { op: "sendCode"; codeID: number; hash: string; name: string }
  | { op: "sendBytecode"; codeID: number; bytes: Uint8Array; name: string }
  | { op: "linkCode"; codeID: number; initFlag: boolean }
  | { op: "init"; env: Uint8Array }
  | { op: "enter"; tag: string; module: string; entryID: number; args: Uint8Array; withResult: boolean }
  | { op: "return"; coroutine: number; value: Uint8Array }
  | { op: "abort"; coroutine: number; message: string }
  | { op: "later" }
  | { op: "destroy" }
  | { op: "memory" }
);

/** The worker's answer to one request. */
export type RequestReply =
  | { seq: number; ok: true; run?: VmRun; value?: number }
  | { seq: number; ok: false; code: MachineErrorCode; message: string; fatal: boolean };

/** Worker → main thread: replies, and output lines of a VM (seq -1). */
export type WorkerReply = RequestReply | { seq: -1; ok: true; line: string; vm: number };
