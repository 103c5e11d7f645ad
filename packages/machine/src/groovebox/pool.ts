import { readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { encodeRmx } from "@amp/codec";
import type { Logger } from "pino";
import { machineLimits } from "../base.js";
import { MachineError } from "../errors.js";
import { initEnvValue } from "../init-env.js";
import type { InitEnv, MachineOptions } from "../types.js";
import { checkGrooveboxModule, readAppCode } from "./abi.js";
import { GrooveboxMachine } from "./machine.js";
import { type CompiledModule, ModuleCache } from "./module-cache.js";
import { type CodeSpec, stashKey, type VmSettings, type WorkerMemory } from "./protocol.js";
import { SpareSizer } from "./spare-sizer.js";
import { type SlotOwner, WorkerSlot } from "./worker-slot.js";

/** The only public Groovebox build; the wasm itself does not carry its build number. */
export const DEFAULT_GROOVEBOX_BUILD = 867;

export interface GrooveboxPoolOptions {
  /** The Groovebox build: its bytes, or a path to the `.wasm`. */
  groovebox: Uint8Array | string;
  /** Build number of that Groovebox; apps needing a newer one are refused. Default 867. */
  build?: number;
  /** Worker threads. Default: the number of cores. */
  workers?: number;
  /**
   * Pre-created VMs kept per worker for each warmed app when it is quiet (the floor). Default 2.
   * Busy apps keep more: see `maxSpares`.
   */
  spares?: number;
  /**
   * Most spares kept per worker for one app. An app's spare target follows its recent arrivals
   * (an exponentially decayed count of its creates, half-life `sparesHalfLifeMs`, spread over the
   * workers) between the floor and this cap. Default 8 (never below the floor).
   */
  maxSpares?: number;
  /** Half-life of the arrival count that sizes spares. Default 10 s. */
  sparesHalfLifeMs?: number;
  /** Defaults for every machine; `createMachine` options override. */
  machineDefaults?: MachineOptions;
  /**
   * A worker that hosts no VM, has had no request for this long, and hosted at least
   * `recycleAfterVms` VMs since it started is replaced by a fresh one (its spares are
   * rebuilt), which gives back what the busy spell left in its heap. Default 30 s; 0 disables.
   */
  recycleIdleMs?: number;
  /** Default 32. */
  recycleAfterVms?: number;
  logger?: Logger;
}

/** App code for a machine, loaded (and linked) before the machine is handed out. */
export interface AppCode {
  codeID: number;
  bytes: Uint8Array;
  /** Unit name (needed for bytecode and for `initFlag`). Default `code-<codeID>`. */
  name?: string;
  initFlag?: boolean;
}

export interface GrooveboxMachineOptions extends MachineOptions {
  /** Code loaded and linked at creation; with a warmed pool this costs nothing. */
  code?: AppCode[];
}

export interface WarmOptions {
  /**
   * Pre-initialize the spares: each runs the app's first init with this env ahead of
   * time, and a session's `init` is then a re-init with its own env (≈0.1 ms instead of
   * ≈4 ms). Use a neutral env (the app's org, workspace, app and baseURL; no real user or
   * token): the app's library initialization runs only on that first init, so values it
   * computes from the env at that moment keep the warm-time ones. A spare is only
   * pre-initialized when that init is pure (no cells, logs, panics or host FFIs), and a
   * session whose env answers `$isSyncEnabled`/`$mqtt_available` differently gets a VM
   * that inits for real. Spares are never reused: a VM serves one session.
   */
  initEnv?: InitEnv;
}

export interface PoolStats {
  workers: number;
  machines: number;
  /** Workers replaced after a runaway VM or a crash. */
  restarts: number;
  /** Idle, empty workers replaced by fresh ones to give memory back. */
  recycled: number;
  modules: number;
}

/**
 * Time a request may wait behind the worker's earlier requests on top of the VM's own hard limit.
 * Modules are sent (and compiled) beforehand, so this is queueing only.
 */
const QUEUE_SLACK_MS = 5_000;

/**
 * Runs Groovebox VMs in a pool of worker threads. Compiles the Groovebox and every
 * app once (by content hash), spreads machines over the workers, keeps pre-created
 * VMs for warmed apps, and replaces a worker whose VM never yields.
 */
export class GrooveboxPool implements SlotOwner {
  readonly build: number;
  readonly #cache = new ModuleCache();
  /** Hashes of app code whose sections passed the check against this build. */
  readonly #checked = new Set<string>();
  readonly #slots: WorkerSlot[] = [];
  readonly #machines = new Map<number, GrooveboxMachine>();
  readonly #warm = new Map<string, WarmEntry>();
  #nextVm = 0;
  #restarts = 0;
  #recycled = 0;
  #closed = false;
  readonly #recycleTimer: ReturnType<typeof setInterval> | undefined;
  readonly #sizeTimer: ReturnType<typeof setInterval>;

  private constructor(
    private readonly groovebox: CompiledModule,
    private readonly options: GrooveboxPoolOptions,
    readonly logger: Logger | undefined,
  ) {
    this.build = options.build ?? DEFAULT_GROOVEBOX_BUILD;
    const n = Math.max(1, options.workers ?? availableParallelism());
    for (let i = 0; i < n; i++) this.#slots.push(new WorkerSlot(this, logger));
    const idleMs = options.recycleIdleMs ?? 30_000;
    if (idleMs > 0) {
      this.#recycleTimer = setInterval(() => this.recycleIdle(idleMs), Math.max(100, idleMs / 3));
      this.#recycleTimer.unref();
    }
    // Spare targets decay with the arrivals: re-evaluated a few times per half-life.
    this.#sizeTimer = setInterval(
      () => {
        for (const key of this.#warm.keys()) this.retarget(key);
      },
      Math.max(50, (options.sparesHalfLifeMs ?? 10_000) / 5),
    );
    this.#sizeTimer.unref();
  }

  /** Compiles the Groovebox (typed errors for corrupt or non-Groovebox Wasm) and starts the workers. */
  static async open(options: GrooveboxPoolOptions): Promise<GrooveboxPool> {
    const bytes =
      typeof options.groovebox === "string" ? await readFile(options.groovebox) : options.groovebox;
    const cache = new ModuleCache();
    const groovebox = await cache.compile(new Uint8Array(bytes));
    checkGrooveboxModule(groovebox.module);
    const pool = new GrooveboxPool(groovebox, options, options.logger);
    pool.#cache.compile(new Uint8Array(bytes)); // seed the pool's own cache with the Groovebox
    return pool;
  }

  /** Compiles app code once per content hash and checks its sections against this build. */
  async compile(bytes: Uint8Array): Promise<CompiledModule> {
    const compiled = await this.#cache.compile(bytes);
    if (!this.#checked.has(compiled.hash)) {
      readAppCode(compiled.module, this.build);
      this.#checked.add(compiled.hash);
    }
    return compiled;
  }

  /**
   * Keeps `spares` pre-created VMs with this code linked (and, with `initEnv`,
   * pre-initialized) on every worker, so a machine created with the same `code` is
   * ready at once. Resolves when the spares are built; the workers refill them in the
   * background, when they have no request to serve.
   */
  async warm(code: AppCode[], spares = this.options.spares ?? 2, options: WarmOptions = {}): Promise<void> {
    const specs = await this.codeSpecs(code);
    const initEnv = options.initEnv === undefined ? undefined : encodeRmx(initEnvValue(options.initEnv));
    const sizer = new SpareSizer(
      spares,
      this.options.maxSpares ?? 8,
      this.options.sparesHalfLifeMs ?? 10_000,
    );
    this.#warm.set(specKey(specs), { specs, spares, initEnv, sizer, target: spares });
    await Promise.all(this.#slots.map((slot) => this.warmSlot(slot, specs, true)));
  }

  async createMachine(options: GrooveboxMachineOptions = {}): Promise<GrooveboxMachine> {
    const specs = await this.codeSpecs(options.code ?? []);
    return this.createOn(this.pickSlot(codeOnly(specs)), options, specs);
  }

  /** What each worker holds in memory (its heap, its VMs' and spares' linear memory). */
  async memoryStats(): Promise<WorkerMemory[]> {
    const live = this.#slots.filter((s) => !s.ended);
    const replies = await Promise.all(live.map((s) => s.request({ op: "stats", vm: 0 }, QUEUE_SLACK_MS)));
    return replies.flatMap((r) => (r.ok && r.memory !== undefined ? [r.memory] : []));
  }

  stats(): PoolStats {
    return {
      workers: this.#slots.length,
      machines: this.#machines.size,
      restarts: this.#restarts,
      recycled: this.#recycled,
      modules: this.#cache.size,
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#recycleTimer);
    clearInterval(this.#sizeTimer);
    await Promise.all(this.#slots.map((s) => s.terminate()));
    this.#machines.clear();
  }

  /** Makes sure the worker holds the module (sent once per worker, by hash). */
  async ensureModule(slot: WorkerSlot, compiled: CompiledModule, vm: number): Promise<void> {
    if (slot.modules.has(compiled.hash)) return;
    slot.modules.add(compiled.hash);
    await slot.request({ op: "module", vm, hash: compiled.hash, module: compiled.module }, 60_000);
  }

  forget(vm: number): void {
    this.#machines.delete(vm);
  }

  workerEnded(slot: WorkerSlot, culprit: number | undefined): void {
    const index = this.#slots.indexOf(slot);
    if (index >= 0 && !this.#closed) {
      this.#restarts++;
      this.#slots[index] = new WorkerSlot(this, this.logger);
    }
    for (const vm of slot.vms) {
      const machine = this.#machines.get(vm);
      this.#machines.delete(vm);
      machine?.workerEnded(vm === culprit, slot.lastError);
    }
  }

  /** Replaces each idle, empty worker that served enough VMs with a fresh, re-warmed one. */
  private recycleIdle(idleMs: number): void {
    const minimum = this.options.recycleAfterVms ?? 32;
    for (const [index, slot] of this.#slots.entries()) {
      if (this.#closed || slot.ended || slot.vms.size > 0 || slot.hosted < minimum || slot.idleMs < idleMs)
        continue;
      const fresh = new WorkerSlot(this, this.logger);
      this.#slots[index] = fresh;
      this.#recycled++;
      this.logger?.info(
        { hosted: slot.hosted },
        "recycling an idle Groovebox worker to give its memory back",
      );
      void slot.terminate();
      for (const { specs } of this.#warm.values()) {
        this.warmSlot(fresh, specs, false).catch((error: Error) =>
          this.logger?.warn({ err: error.message }, "re-warming a recycled worker failed"),
        );
      }
    }
  }

  line(vm: number, line: string): void {
    this.logger?.debug({ vm, line }, "Groovebox output");
  }

  /** Registers the warm target of `specs` on a worker; `now` builds the spares before answering. */
  private async warmSlot(slot: WorkerSlot, specs: CompiledSpec[], now: boolean): Promise<void> {
    const key = specKey(specs);
    const warm = this.#warm.get(key);
    if (warm === undefined) return;
    slot.warmed.add(key);
    for (const s of [{ compiled: this.groovebox }, ...specs]) await this.ensureModule(slot, s.compiled, 0);
    const reply = await slot.request(
      {
        op: "warm",
        vm: 0,
        gbHash: this.groovebox.hash,
        settings: this.vmSettings(machineLimits({ ...this.options.machineDefaults })),
        code: codeOnly(specs),
        target: warm.target,
        initEnv: warm.initEnv,
        now,
      },
      // Each spare is a VM under the default limits: a spare that never yields ends like any VM.
      machineLimits({ ...this.options.machineDefaults }).hardTimeoutMs * Math.max(1, warm.target) +
        QUEUE_SLACK_MS,
    );
    if (!reply.ok) throw new MachineError(reply.code, reply.message);
    if (typeof reply.value === "number")
      slot.spares.set(stashKey(this.groovebox.hash, codeOnly(specs)), reply.value);
  }

  private vmSettings(limits: { timeoutMs: number; memoryLimitBytes: number }): VmSettings {
    return { timeoutMs: limits.timeoutMs, memoryLimitBytes: limits.memoryLimitBytes, build: this.build };
  }

  private async createOn(
    slot: WorkerSlot,
    options: MachineOptions,
    specs: CompiledSpec[],
  ): Promise<GrooveboxMachine> {
    if (this.#closed) throw new MachineError("destroyed", "the pool is closed");
    const vm = ++this.#nextVm;
    const machine = new GrooveboxMachine(this, slot, vm, { ...this.options.machineDefaults, ...options });
    const key = specKey(specs);
    const code = codeOnly(specs);
    const stash = stashKey(this.groovebox.hash, code);
    // Counted on the worker before the first await, so the creates of a burst (all picked before
    // any of them reaches its worker) spread over the workers instead of piling onto one.
    slot.vms.add(vm);
    const spares = slot.spares.get(stash) ?? 0;
    // A worker holding a spare hands it out without fail, and handles requests in order:
    // the machine is ready at once and its first request queues behind this one.
    const optimistic = spares > 0;
    if (optimistic) slot.spares.set(stash, spares - 1);
    const warm = this.#warm.get(key);
    if (warm !== undefined) {
      warm.sizer.arrival();
      this.retarget(key);
    }
    try {
      await this.ensureModule(slot, this.groovebox, vm);
      for (const s of specs) await this.ensureModule(slot, s.compiled, vm);
      const created = slot.request(
        {
          op: "create",
          vm,
          gbHash: this.groovebox.hash,
          settings: this.vmSettings(machine.limits),
          code,
          warm: warm?.target ?? 0,
        },
        machine.limits.hardTimeoutMs + QUEUE_SLACK_MS,
      );
      const settled = created.then((reply) => {
        if (reply.ok && typeof reply.value === "number") slot.spares.set(stash, reply.value);
        return reply;
      });
      if (optimistic) {
        settled.then(
          (reply) => {
            if (!reply.ok) machine.createFailed(new MachineError(reply.code, reply.message));
          },
          () => {}, // a lost worker reaches the machine through workerEnded
        );
      } else {
        const reply = await settled;
        if (!reply.ok) throw new MachineError(reply.code, reply.message);
      }
    } catch (error) {
      slot.vms.delete(vm);
      throw error;
    }
    // A worker started after `warm` (a replacement) learns the target and fills it in the background.
    if (this.#warm.has(key) && !slot.warmed.has(key)) {
      this.warmSlot(slot, specs, false).catch((error: Error) =>
        this.logger?.warn({ err: error.message }, "warming a replacement worker failed"),
      );
    }
    slot.hosted++;
    this.#machines.set(vm, machine);
    machine.codeLoaded(specs.map((s) => s.codeID));
    return machine;
  }

  private liveSlots(): WorkerSlot[] {
    return this.#slots.filter((s) => !s.ended);
  }

  /** Tells the workers an app's new spare target when its arrivals moved it. */
  private retarget(key: string): void {
    const warm = this.#warm.get(key);
    if (warm === undefined || this.#closed) return;
    const slots = this.liveSlots();
    const target = warm.sizer.target(slots.length);
    if (target === warm.target) return;
    warm.target = target;
    const code = codeOnly(warm.specs);
    const stash = stashKey(this.groovebox.hash, code);
    for (const slot of slots) {
      if (!slot.warmed.has(key)) continue;
      slot
        .request({ op: "target", vm: 0, gbHash: this.groovebox.hash, code, target }, QUEUE_SLACK_MS)
        .then((reply) => {
          if (reply.ok && typeof reply.value === "number") slot.spares.set(stash, reply.value);
        })
        .catch(() => {}); // a lost worker is replaced and re-warmed with the current target
    }
  }

  private async codeSpecs(code: AppCode[]): Promise<CompiledSpec[]> {
    const specs = [];
    for (const c of code) {
      const compiled = await this.compile(c.bytes);
      specs.push({
        codeID: c.codeID,
        hash: compiled.hash,
        name: c.name ?? `code-${c.codeID}`,
        initFlag: c.initFlag ?? false,
        compiled,
      });
    }
    return specs;
  }

  /**
   * The worker with the fewest VMs, avoiding one that is stuck in a long run. Among
   * workers within one VM of the fewest, one holding a spare for `code` wins (it is
   * ready at once) without letting the load drift apart; the one holding the most
   * spares first, so back-to-back sessions take turns and each worker refills while
   * the others serve.
   */
  pickSlot(code?: CodeSpec[]): WorkerSlot {
    const live = this.#slots.filter((s) => !s.ended);
    const responsive = live.filter((s) => !s.busyFor(200));
    const candidates = responsive.length > 0 ? responsive : live;
    if (candidates.length === 0) throw new MachineError("destroyed", "the pool is closed");
    const least = candidates.reduce((a, b) => (b.vms.size < a.vms.size ? b : a));
    if (code === undefined) return least;
    const key = stashKey(this.groovebox.hash, code);
    const withSpare = candidates.filter(
      (s) => s.vms.size <= least.vms.size + 1 && (s.spares.get(key) ?? 0) > 0,
    );
    const spares = (s: WorkerSlot) => s.spares.get(key) ?? 0;
    const better = (a: WorkerSlot, b: WorkerSlot) =>
      spares(b) > spares(a) || (spares(b) === spares(a) && b.vms.size < a.vms.size) ? b : a;
    return withSpare.reduce(better, withSpare[0] ?? least);
  }
}

type CompiledSpec = CodeSpec & { compiled: CompiledModule };

interface WarmEntry {
  specs: CompiledSpec[];
  /** The floor. */
  spares: number;
  initEnv: Uint8Array | undefined;
  sizer: SpareSizer;
  /** The per-worker target last sent to the workers. */
  target: number;
}

function specKey(specs: CompiledSpec[]): string {
  return specs.map((s) => `${s.codeID}:${s.hash}:${s.initFlag ? 1 : 0}`).join("|");
}

function codeOnly(specs: CompiledSpec[]): CodeSpec[] {
  return specs.map(({ compiled: _, ...spec }) => spec);
}
