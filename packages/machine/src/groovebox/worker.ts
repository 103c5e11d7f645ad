/**
 * Worker-thread host for Groovebox VMs. Holds compiled modules by content hash,
 * the VMs assigned to it, and a stash of spare VMs per (Groovebox, app code) so that
 * creating a session does not pay for instantiation, linking and (when the pool was
 * warmed with an init environment) the app's first initialization.
 *
 * A spare serves exactly one session and is dropped with it: nothing a session put
 * in a VM (env, cells, memory) can reach the next one.
 */
import { getHeapStatistics } from "node:v8";
import { parentPort } from "node:worker_threads";
import { asMachineError, MachineError } from "../errors.js";
import { IdleCollector } from "./idle-collector.js";
import {
  type CodeSpec,
  type LocalAnswer,
  stashKey,
  type VmSettings,
  type WorkerMemory,
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
  /** Entries run so far (the first is the session's load, part of its setup). */
  entries: number;
}

interface WarmTarget extends BuildSpec {
  target: number;
  initEnv: Uint8Array | undefined;
}

/**
 * A spare under construction. It is built in steps (instantiate the Groovebox, add each
 * app module, link and pre-initialize) with the event loop let in between, so a request
 * that arrives meanwhile waits for one step (≈2 ms) rather than a whole build (≈6 ms).
 */
interface Building {
  key: string;
  warm: WarmTarget;
  steps: Generator<void, Spare, void>;
}

/**
 * Spares are refilled once the worker has had no request for `REFILL_AFTER_ANY_MS` (a
 * session's init and load follow its create within that), and no live session's request
 * for `REFILL_AFTER_LIVE_MS`, so a session tapping away is not made to wait for build
 * steps. A session's setup (create, init, its first entry) is not live: sessions created
 * back to back keep finding spares.
 */
const REFILL_AFTER_ANY_MS = 2;
const REFILL_AFTER_LIVE_MS = 10;

/** Destroyed VMs' memory is collected after 1 s without requests, once 4 or more were destroyed. */
const collector = new IdleCollector(1000, 4);

const modules = new Map<string, WebAssembly.Module>();
const vms = new Map<number, Hosted>();
const stash = new Map<string, Spare[]>();
const warmTargets = new Map<string, WarmTarget>();
let linesFor = 0;
let building: Building | undefined;
/** When the last request, and the last live session's request, came in (`performance.now()`). */
let lastRequest = Number.NEGATIVE_INFINITY;
let lastLive = Number.NEGATIVE_INFINITY;
/** Cancels the scheduled refill step, when one is scheduled. */
let cancelRefill: (() => void) | undefined;

function module(hash: string): WebAssembly.Module {
  const m = modules.get(hash);
  if (m === undefined) throw new MachineError("unknown_code", `module ${hash} was not sent to this worker`);
  return m;
}

/** Runs a stepwise build to its end. */
function finish<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Builds a VM with the spec's code linked, yielding between the costly steps. */
function* buildSteps(spec: BuildSpec): Generator<void, GrooveboxVM, void> {
  const vm = GrooveboxVM.create(module(spec.gbHash), {
    ...spec.settings,
    onLine: (line) => port.postMessage({ seq: -1, ok: true, line, vm: linesFor } satisfies WorkerReply),
  });
  for (const c of spec.code) {
    yield;
    vm.addCode(c.codeID, module(c.hash), c.name);
  }
  for (const c of spec.code) vm.linkCode(c.codeID, c.initFlag);
  return vm;
}

function build(spec: BuildSpec): GrooveboxVM {
  return finish(buildSteps(spec));
}

/** Runs the first init with the warm-time env; undefined when that init was not pure. */
function preinitialize(vm: GrooveboxVM, env: Uint8Array): PreInit | undefined {
  const run = vm.init(env);
  if (run.stop.type !== "idle") return undefined;
  if (!run.events.every((e) => e.t === "builtin" || e.t === "initDone")) return undefined;
  return { events: run.events.filter((e) => e.t === "builtin"), ...vm.initFlags() };
}

function* spareSteps(warm: WarmTarget): Generator<void, Spare, void> {
  const vm = yield* buildSteps(warm);
  if (warm.initEnv === undefined) return { vm, preinit: undefined };
  yield;
  const preinit = preinitialize(vm, warm.initEnv);
  if (preinit !== undefined) return { vm, preinit };
  // An app whose init is not pure gets linked spares from now on (a fresh one: this VM ran an init).
  warm.initEnv = undefined;
  yield;
  return { vm: yield* buildSteps(warm), preinit: undefined };
}

function sparesOf(key: string): Spare[] {
  let spares = stash.get(key);
  if (spares === undefined) {
    spares = [];
    stash.set(key, spares);
  }
  return spares;
}

/** The next spare to build: for the first warm target short of spares. */
function nextBuild(): Building | undefined {
  for (const [key, warm] of warmTargets) {
    if (sparesOf(key).length < warm.target) return { key, warm, steps: spareSteps(warm) };
  }
  return undefined;
}

/** Ends a build; its spare joins the stash unless the warm target changed meanwhile. */
function completeBuild(done: Building, spare: Spare): void {
  if (building === done) building = undefined;
  if (warmTargets.get(done.key) !== done.warm) return;
  const spares = sparesOf(done.key);
  spares.push(spare);
  port.postMessage({
    seq: -1,
    ok: true,
    vm: 0,
    spares: done.key,
    count: spares.length,
  } satisfies WorkerReply);
}

/**
 * A build that throws is dropped, and its warm target with it (a spec that cannot be built is
 * not retried); the pool logs why.
 */
function failBuild(failed: Building, error: unknown): void {
  if (building === failed) building = undefined;
  if (warmTargets.get(failed.key) === failed.warm) warmTargets.delete(failed.key);
  port.postMessage({
    seq: -1,
    ok: true,
    vm: 0,
    warning: "a spare VM could not be built; this app's spares are no longer kept on this worker",
    err: asMachineError(error, "vm_trap").message,
  } satisfies WorkerReply);
}

/** Takes the spare under construction for `key`, finishing it now (a session is waiting for it). */
function adoptBuilding(key: string): Spare | undefined {
  const b = building;
  if (b === undefined || b.key !== key || warmTargets.get(key) !== b.warm) return undefined;
  building = undefined;
  try {
    return finish(b.steps);
  } catch (error) {
    failBuild(b, error);
    return undefined;
  }
}

/** One step of building a spare; the next one runs after any request that came in meanwhile. */
function refillStep(): void {
  cancelRefill = undefined;
  building ??= nextBuild();
  const b = building;
  if (b === undefined) return;
  try {
    const step = b.steps.next();
    if (step.done) completeBuild(b, step.value);
  } catch (error) {
    failBuild(b, error);
  }
  // An immediate runs after the event loop polled for messages: a waiting request goes first.
  const next = setImmediate(refillStep);
  cancelRefill = () => clearImmediate(next);
}

/** (Re)schedules the next refill step: at once, or once live sessions have been quiet for a while. */
function scheduleRefill(): void {
  cancelRefill?.();
  const wait =
    Math.max(lastRequest + REFILL_AFTER_ANY_MS, lastLive + REFILL_AFTER_LIVE_MS) - performance.now();
  if (wait <= 0) {
    const next = setImmediate(refillStep);
    cancelRefill = () => clearImmediate(next);
  } else {
    const timer = setTimeout(refillStep, wait);
    cancelRefill = () => clearTimeout(timer);
  }
}

/** Whether a request is a live session's interaction (past its setup). */
function isLive(req: WorkerRequest): boolean {
  const hosted = vms.get(req.vm);
  if (hosted === undefined) return false;
  if (req.op === "enter") return ++hosted.entries > 1;
  return hosted.entries > 1 && (req.op === "return" || req.op === "abort" || req.op === "later");
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

function workerMemory(): WorkerMemory {
  const heap = getHeapStatistics();
  let vmLinear = 0;
  let spareLinear = 0;
  let spareCount = 0;
  for (const h of vms.values()) vmLinear += h.vm.memoryBytes;
  for (const spares of stash.values()) {
    for (const s of spares) spareLinear += s.vm.memoryBytes;
    spareCount += spares.length;
  }
  return {
    vms: vms.size,
    spares: spareCount,
    vmLinear,
    spareLinear,
    heapUsed: heap.used_heap_size,
    heapTotal: heap.total_heap_size,
    malloced: heap.malloced_memory,
    external: heap.external_memory,
  };
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
      const spares = sparesOf(key).filter((s) => (s.preinit !== undefined) === (req.initEnv !== undefined));
      stash.set(key, spares);
      if (building?.key === key) building = undefined;
      if (req.now) while (spares.length < warm.target) spares.push(finish(spareSteps(warm)));
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
      // A ready spare, else the one under construction (finished now), else a fresh VM.
      const spare = stash.get(key)?.shift() ?? adoptBuilding(key) ?? { vm: build(spec), preinit: undefined };
      spare.vm.configure(req.settings);
      vms.set(req.vm, { ...spare, spec, entries: 0 });
      if (warmTargets.has(key)) scheduleRefill();
      return { seq: req.seq, ok: true, value: stash.get(key)?.length ?? 0 };
    }
    case "destroy":
      if (vms.delete(req.vm)) collector.destroyed();
      return { seq: req.seq, ok: true };
    case "target": {
      const key = stashKey(req.gbHash, req.code);
      const warm = warmTargets.get(key);
      if (warm === undefined) return { seq: req.seq, ok: true, value: 0 };
      warm.target = req.target;
      const spares = sparesOf(key);
      // The surplus goes (its memory with it once collected); the newest spares stay.
      if (spares.length > warm.target) spares.splice(0, spares.length - warm.target);
      if (building?.key === key && spares.length >= warm.target) building = undefined;
      scheduleRefill();
      return { seq: req.seq, ok: true, value: spares.length };
    }
    case "stats":
      return { seq: req.seq, ok: true, memory: workerMemory() };
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
  lastRequest = performance.now();
  collector.activity();
  if (isLive(req)) lastLive = lastRequest;
  let reply: WorkerReply;
  try {
    reply = handle(req);
  } catch (e) {
    const error = asMachineError(e, "vm_trap");
    const vm = vms.get(req.vm)?.vm;
    const fatal = vm?.dead !== undefined;
    if (fatal && vms.delete(req.vm)) collector.destroyed();
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
  if (cancelRefill !== undefined) scheduleRefill(); // a request pushes the refill back
});
