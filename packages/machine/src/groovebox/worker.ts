/**
 * Worker-thread host for Groovebox VMs. Holds compiled modules by content hash,
 * the VMs assigned to it, and a stash of pre-created VMs per (Groovebox, app code)
 * so that creating a session does not pay for instantiation and linking.
 */
import { parentPort } from "node:worker_threads";
import { asMachineError, MachineError } from "../errors.js";
import type { CodeSpec, VmSettings, WorkerReply, WorkerRequest } from "./protocol.js";
import { GrooveboxVM } from "./vm.js";

if (parentPort === null) throw new Error("the Groovebox worker must run in a worker thread");
const port = parentPort;

const modules = new Map<string, WebAssembly.Module>();
const vms = new Map<number, GrooveboxVM>();
const stash = new Map<string, GrooveboxVM[]>();
const warmTargets = new Map<
  string,
  { target: number; gbHash: string; settings: VmSettings; code: CodeSpec[] }
>();
let linesFor = 0;

function module(hash: string): WebAssembly.Module {
  const m = modules.get(hash);
  if (m === undefined) throw new MachineError("unknown_code", `module ${hash} was not sent to this worker`);
  return m;
}

function stashKey(gbHash: string, code: CodeSpec[]): string {
  return [gbHash, ...code.map((c) => `${c.codeID}:${c.hash}:${c.initFlag ? 1 : 0}`)].join("|");
}

function build(gbHash: string, settings: VmSettings, code: CodeSpec[]): GrooveboxVM {
  const vm = GrooveboxVM.create(module(gbHash), {
    ...settings,
    onLine: (line) => port.postMessage({ seq: -1, ok: true, line, vm: linesFor } satisfies WorkerReply),
  });
  for (const c of code) vm.addCode(c.codeID, module(c.hash), c.name);
  for (const c of code) vm.linkCode(c.codeID, c.initFlag);
  return vm;
}

function refill(key: string): void {
  const warm = warmTargets.get(key);
  if (warm === undefined) return;
  const spares = stash.get(key) ?? [];
  stash.set(key, spares);
  if (spares.length >= warm.target) return;
  try {
    spares.push(build(warm.gbHash, warm.settings, warm.code));
  } catch {
    warmTargets.delete(key); // a spec that cannot be built is not retried
    return;
  }
  if (spares.length < warm.target) setImmediate(() => refill(key));
}

function handle(req: WorkerRequest): WorkerReply {
  linesFor = req.vm;
  switch (req.op) {
    case "module":
      modules.set(req.hash, req.module);
      return { seq: req.seq, ok: true };
    case "create": {
      const key = stashKey(req.gbHash, req.code);
      if (req.warm > 0) {
        warmTargets.set(key, {
          target: req.warm,
          gbHash: req.gbHash,
          settings: req.settings,
          code: req.code,
        });
      }
      const vm = stash.get(key)?.pop() ?? build(req.gbHash, req.settings, req.code);
      vm.configure(req.settings);
      vms.set(req.vm, vm);
      if (warmTargets.has(key)) setImmediate(() => refill(key));
      return { seq: req.seq, ok: true };
    }
    case "destroy":
      vms.delete(req.vm);
      return { seq: req.seq, ok: true };
  }
  const vm = vms.get(req.vm);
  if (vm === undefined) throw new MachineError("destroyed", `no VM ${req.vm} in this worker`);
  switch (req.op) {
    case "sendCode":
      vm.addCode(req.codeID, module(req.hash), req.name);
      return { seq: req.seq, ok: true };
    case "sendBytecode":
      vm.addBytecode(req.codeID, req.bytes, req.name);
      return { seq: req.seq, ok: true };
    case "linkCode":
      vm.linkCode(req.codeID, req.initFlag);
      return { seq: req.seq, ok: true };
    case "init":
      return { seq: req.seq, ok: true, run: vm.init(req.env) };
    case "enter":
      return {
        seq: req.seq,
        ok: true,
        run: vm.enter(req.tag, req.module, req.entryID, req.args, req.withResult),
      };
    case "return":
      return { seq: req.seq, ok: true, run: vm.ffiReturn(req.coroutine, req.value) };
    case "abort":
      return { seq: req.seq, ok: true, run: vm.ffiAbort(req.coroutine, req.message) };
    case "later":
      return { seq: req.seq, ok: true, run: vm.ffiLater() };
    case "memory":
      return { seq: req.seq, ok: true, value: vm.memoryBytes };
  }
}

port.on("message", (req: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = handle(req);
  } catch (e) {
    const error = asMachineError(e, "vm_trap");
    const vm = vms.get(req.vm);
    const fatal = vm?.dead !== undefined;
    if (fatal) vms.delete(req.vm);
    reply = { seq: req.seq, ok: false, code: error.code, message: error.message, fatal };
  }
  const transfer: ArrayBuffer[] = [];
  if ("run" in reply && reply.run) {
    for (const ev of reply.run.events) {
      if ("args" in ev) transfer.push(ev.args.buffer as ArrayBuffer);
      else if (ev.t === "exit" && ev.result) transfer.push(ev.result.buffer as ArrayBuffer);
    }
    if (reply.run.stop.type === "ffi") transfer.push(reply.run.stop.args.buffer as ArrayBuffer);
  }
  port.postMessage(reply, transfer);
});
