/**
 * Worker-thread host for Groovebox VMs. Holds compiled modules by content hash,
 * the VMs assigned to it, and a stash of spare VMs per (Groovebox, app code) so that
 * creating a session does not pay for instantiation, linking and (when the pool was
 * warmed with an init environment) the app's first initialization.
 *
 * A spare serves exactly one session and is dropped with it: nothing a session put
 * in a VM (env, cells, memory) can reach the next one.
 */
import { parentPort } from "node:worker_threads";
import { asMachineError, MachineError } from "../errors.js";
import {
  type CodeSpec,
  type LocalAnswer,
  stashKey,
  type VmSettings,
  type WorkerReply,
  type WorkerRequest,
} from "./protocol.js";
import { GrooveboxVM, type VmEvent, type VmRun } from "./vm.js";

if (parentPort === null) throw new Error("the Groovebox worker must run in a worker thread");
const port = parentPort;

/** How to build a VM: what a spare, or a fresh replacement for one, is made of. */
interface BuildSpec {
  gbHash: string;
  settings: VmSettings;
  code: CodeSpec[];
}

/**
 * A spare that already ran the app's first init with the warm-time environment. The
 * app's library initialization runs only on the first init, so it is kept only when
 * that init was pure (no cells, logs, panics or host FFIs), and handed to a session
 * only when the session's env answers the init-time queries the same way.
 */
interface PreInit {
  /** The builtins the first init asked, replayed into the session's init record. */
  events: VmEvent[];
  sync: boolean;
  mqtt: boolean;
}

interface Spare {
  vm: GrooveboxVM;
  preinit: PreInit | undefined;
}

interface Hosted extends Spare {
  spec: BuildSpec;
}

interface WarmTarget extends BuildSpec {
  target: number;
  initEnv: Uint8Array | undefined;
}

/** The worker builds spares only after it has had no request for this long. */
const REFILL_IDLE_MS = 10;

const modules = new Map<string, WebAssembly.Module>();
const vms = new Map<number, Hosted>();
const stash = new Map<string, Spare[]>();
const warmTargets = new Map<string, WarmTarget>();
let linesFor = 0;
let refillTimer: ReturnType<typeof setTimeout> | undefined;

function module(hash: string): WebAssembly.Module {
  const m = modules.get(hash);
  if (m === undefined) throw new MachineError("unknown_code", `module ${hash} was not sent to this worker`);
  return m;
}

function build(spec: BuildSpec): GrooveboxVM {
  const vm = GrooveboxVM.create(module(spec.gbHash), {
    ...spec.settings,
    onLine: (line) => port.postMessage({ seq: -1, ok: true, line, vm: linesFor } satisfies WorkerReply),
  });
  for (const c of spec.code) vm.addCode(c.codeID, module(c.hash), c.name);
  for (const c of spec.code) vm.linkCode(c.codeID, c.initFlag);
  return vm;
}

/** Runs the first init with the warm-time env; undefined when that init was not pure. */
function preinitialize(vm: GrooveboxVM, env: Uint8Array): PreInit | undefined {
  const run = vm.init(env);
  if (run.stop.type !== "idle") return undefined;
  if (!run.events.every((e) => e.t === "builtin" || e.t === "initDone")) return undefined;
  return { events: run.events.filter((e) => e.t === "builtin"), ...vm.initFlags() };
}

function buildSpare(warm: WarmTarget): Spare {
  const vm = build(warm);
  if (warm.initEnv === undefined) return { vm, preinit: undefined };
  const preinit = preinitialize(vm, warm.initEnv);
  // An app whose init is not pure gets linked spares from now on (a fresh one: this VM ran an init).
  if (preinit === undefined) {
    warm.initEnv = undefined;
    return { vm: build(warm), preinit: undefined };
  }
  return { vm, preinit };
}

/** Tops up one spare, then schedules the next; stays out of the way of live sessions. */
function refillOne(): void {
  refillTimer = undefined;
  for (const [key, warm] of warmTargets) {
    const spares = stash.get(key) ?? [];
    stash.set(key, spares);
    if (spares.length >= warm.target) continue;
    try {
      spares.push(buildSpare(warm));
      port.postMessage({ seq: -1, ok: true, vm: 0, spares: key, count: spares.length } satisfies WorkerReply);
    } catch {
      warmTargets.delete(key); // a spec that cannot be built is not retried
    }
    scheduleRefill();
    return;
  }
}

function scheduleRefill(): void {
  if (refillTimer !== undefined) clearTimeout(refillTimer);
  refillTimer = setTimeout(refillOne, REFILL_IDLE_MS);
}

/** The first init of a session on a pre-initialized spare: a re-init with the session's env. */
function sessionInit(hosted: Hosted, env: Uint8Array): VmRun {
  const preinit = hosted.preinit;
  hosted.preinit = undefined;
  if (preinit !== undefined) {
    hosted.vm.beginInit(env);
    const flags = hosted.vm.initFlags();
    if (flags.sync === preinit.sync && flags.mqtt === preinit.mqtt) {
      const run = hosted.vm.run();
      return { events: [...preinit.events, ...run.events], stop: run.stop };
    }
    // The session's env answers the init-time queries differently: a fresh VM inits for real.
    hosted.vm = build(hosted.spec);
  }
  return hosted.vm.init(env);
}

/** Code changes before the first init need a VM whose app has not initialized yet. */
function beforeCodeChange(hosted: Hosted): void {
  if (hosted.preinit === undefined) return;
  hosted.preinit = undefined;
  hosted.vm = build(hosted.spec);
}

function applyLocal(hosted: Hosted, local: Record<string, LocalAnswer> | undefined): void {
  if (local !== undefined) hosted.vm.setLocalAnswers(new Map(Object.entries(local)));
}

function handle(req: WorkerRequest): WorkerReply {
  linesFor = req.vm;
  switch (req.op) {
    case "module":
      modules.set(req.hash, req.module);
      return { seq: req.seq, ok: true };
    case "warm": {
      const key = stashKey(req.gbHash, req.code);
      const warm: WarmTarget = {
        gbHash: req.gbHash,
        settings: req.settings,
        code: req.code,
        target: req.target,
        initEnv: req.initEnv,
      };
      warmTargets.set(key, warm);
      // Spares built for another env (or none) are replaced by ones for this one.
      const spares = (stash.get(key) ?? []).filter(
        (s) => (s.preinit !== undefined) === (req.initEnv !== undefined),
      );
      stash.set(key, spares);
      if (req.now) while (spares.length < warm.target) spares.push(buildSpare(warm));
      else scheduleRefill();
      return { seq: req.seq, ok: true, value: spares.length };
    }
    case "create": {
      const key = stashKey(req.gbHash, req.code);
      if (req.warm > 0 && !warmTargets.has(key)) {
        warmTargets.set(key, {
          target: req.warm,
          gbHash: req.gbHash,
          settings: req.settings,
          code: req.code,
          initEnv: undefined,
        });
      }
      const spec = { gbHash: req.gbHash, settings: req.settings, code: req.code };
      const spare = stash.get(key)?.shift() ?? { vm: build(spec), preinit: undefined };
      spare.vm.configure(req.settings);
      vms.set(req.vm, { ...spare, spec });
      if (warmTargets.has(key)) scheduleRefill();
      return { seq: req.seq, ok: true, value: stash.get(key)?.length ?? 0 };
    }
    case "destroy":
      vms.delete(req.vm);
      return { seq: req.seq, ok: true };
  }
  const hosted = vms.get(req.vm);
  if (hosted === undefined) throw new MachineError("destroyed", `no VM ${req.vm} in this worker`);
  switch (req.op) {
    case "sendCode":
      beforeCodeChange(hosted);
      hosted.vm.addCode(req.codeID, module(req.hash), req.name);
      return { seq: req.seq, ok: true };
    case "sendBytecode":
      beforeCodeChange(hosted);
      hosted.vm.addBytecode(req.codeID, req.bytes, req.name);
      return { seq: req.seq, ok: true };
    case "linkCode":
      beforeCodeChange(hosted);
      hosted.vm.linkCode(req.codeID, req.initFlag);
      return { seq: req.seq, ok: true };
    case "init":
      applyLocal(hosted, req.local);
      return { seq: req.seq, ok: true, run: sessionInit(hosted, req.env) };
    case "enter":
      applyLocal(hosted, req.local);
      return {
        seq: req.seq,
        ok: true,
        run: hosted.vm.enter(req.tag, req.module, req.entryID, req.args, req.withResult),
      };
    case "return":
      return { seq: req.seq, ok: true, run: hosted.vm.ffiReturn(req.coroutine, req.value) };
    case "abort":
      return { seq: req.seq, ok: true, run: hosted.vm.ffiAbort(req.coroutine, req.message) };
    case "later":
      return { seq: req.seq, ok: true, run: hosted.vm.ffiLater() };
    case "memory":
      return { seq: req.seq, ok: true, value: hosted.vm.memoryBytes };
    case "scan":
      return { seq: req.seq, ok: true, value: hosted.vm.memoryContains(req.needle) };
  }
}

port.on("message", (req: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    reply = handle(req);
  } catch (e) {
    const error = asMachineError(e, "vm_trap");
    const vm = vms.get(req.vm)?.vm;
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
  if (refillTimer !== undefined) scheduleRefill(); // a request came in: wait for quiet again
});
