import { CodecError, decodeRmx, encodeRmx, type MixValue } from "@amp/codec";
import { errorMessage, type FfiAnswerSink, MachineBase } from "../base.js";
import { MachineError } from "../errors.js";
import { localAnswerOf, standardHooks } from "../ffi/hooks.js";
import { initEnvValue } from "../init-env.js";
import type { InitEnv, Interaction, LogMessage, MachineOptions } from "../types.js";
import { isWasm } from "./module-cache.js";
import type { GrooveboxPool } from "./pool.js";
import type { LocalAnswer, RequestReply } from "./protocol.js";
import type { VmRun } from "./vm.js";
import type { WorkerSlot } from "./worker-slot.js";

const MAX_NAME = 255;
const STANDARD_HOOKS = Object.keys(standardHooks());

/**
 * A Machine whose VM is a Groovebox instance in one of the pool's worker threads.
 * Every operation is a request to that worker; what the VM did comes back as a
 * batch of events plus where it stopped, which this class turns into state changes,
 * events and FFI calls.
 */
export class GrooveboxMachine extends MachineBase {
  readonly backend = "groovebox" as const;
  readonly #codeIDs = new Set<number>();
  readonly #linked = new Set<number>();
  /** The local answer of each of `STANDARD_HOOKS` the worker holds for this VM, as last sent. */
  #localSent: (LocalAnswer | undefined)[] | undefined;

  /** @internal created by GrooveboxPool.createMachine */
  constructor(
    private readonly pool: GrooveboxPool,
    private readonly slot: WorkerSlot,
    private readonly vm: number,
    options: MachineOptions,
  ) {
    super({ logger: pool.logger, ...options }, "gbx");
  }

  /** @internal */
  get limits(): { timeoutMs: number; hardTimeoutMs: number; memoryLimitBytes: number } {
    return {
      timeoutMs: this.timeoutMs,
      hardTimeoutMs: this.hardTimeoutMs,
      memoryLimitBytes: this.memoryLimitBytes,
    };
  }

  /** @internal code loaded and linked at creation */
  codeLoaded(codeIDs: number[]): void {
    for (const id of codeIDs) {
      this.#codeIDs.add(id);
      this.#linked.add(id);
    }
  }

  async sendCode(codeID: number, bytes: Uint8Array, name = `code-${codeID}`): Promise<void> {
    this.requireCodeState("sendCode");
    checkCodeID(codeID);
    checkName(name, "code name");
    if (name.length === 0) throw new MachineError("bad_args", "code name must not be empty");
    if (this.#codeIDs.has(codeID)) throw new MachineError("unknown_code", `code ${codeID} was already sent`);
    if (!(bytes instanceof Uint8Array)) throw new MachineError("bad_args", "code must be a Uint8Array");
    if (isWasm(bytes)) {
      const compiled = await this.pool.compile(bytes);
      await this.pool.ensureModule(this.slot, compiled, this.vm);
      // Compiling took time: a loader's FFI may have been answered meanwhile.
      this.requireCodeState("sendCode");
      await this.call({ op: "sendCode", vm: this.vm, codeID, hash: compiled.hash, name });
    } else {
      await this.call({ op: "sendBytecode", vm: this.vm, codeID, bytes: bytes.slice(), name });
    }
    this.#codeIDs.add(codeID);
  }

  async linkCode(codeID: number, initFlag = false): Promise<void> {
    this.requireCodeState("linkCode");
    if (!this.#codeIDs.has(codeID)) throw new MachineError("unknown_code", `code ${codeID} was never sent`);
    await this.call({ op: "linkCode", vm: this.vm, codeID, initFlag });
    this.#linked.add(codeID);
  }

  init(env: InitEnv): Promise<Interaction> {
    this.requireState("init", "Init", "Idle");
    const block = encodeArgs(initEnvValue(env), "init env");
    const done = this.beginInteraction();
    this.drive({ op: "init", vm: this.vm, env: block, local: this.localAnswers() });
    return done;
  }

  enter(
    tag: string,
    module: string,
    entryID: number,
    args: MixValue,
    withResult = false,
  ): Promise<Interaction> {
    this.requireState("enter", "Idle");
    checkName(tag, "tag");
    if (tag.length === 0) throw new MachineError("bad_args", "tag must not be empty");
    checkName(module, "module");
    if (!Number.isInteger(entryID) || entryID < 0 || entryID > 0x7fffffff) {
      throw new MachineError("bad_args", "entryID must be a non-negative 31-bit integer");
    }
    const block = encodeArgs(args, "args");
    const done = this.beginInteraction();
    this.drive({
      op: "enter",
      vm: this.vm,
      tag,
      module,
      entryID,
      args: block,
      withResult,
      local: this.localAnswers(),
    });
    return done;
  }

  async destroy(): Promise<void> {
    if (this.state === "Destroyed") return;
    const wasAlive = this.state !== "Timeout";
    this.markDestroyed();
    this.pool.forget(this.vm);
    this.slot.vms.delete(this.vm);
    if (wasAlive && !this.slot.ended) {
      await this.slot
        .request({ op: "destroy", vm: this.vm }, 5_000)
        .catch((error: Error) =>
          this.pool.logger?.debug(
            { vm: this.vm, err: error.message },
            "destroying a VM on its worker failed",
          ),
        );
    }
  }

  /** Current linear memory of the VM, in bytes. */
  async memoryBytes(): Promise<number> {
    const reply = await this.call({ op: "memory", vm: this.vm });
    return reply.ok && typeof reply.value === "number" ? reply.value : 0;
  }

  /** @internal whether the VM's linear memory holds `needle` (for tests proving sessions do not leak). */
  async memoryContains(needle: Uint8Array): Promise<boolean> {
    const reply = await this.call({ op: "scan", vm: this.vm, needle: needle.slice() });
    return reply.ok && reply.value === true;
  }

  /**
   * Standard hooks the worker may answer in place (saving a round trip per call):
   * those the registry maps to `standardHooks()` handlers, and only while nobody
   * listens to `ffiCall` (a listener must see every host FFI). Sent when it changes:
   * the registry and the listeners may change between interactions, so each one
   * compares the few hooks' answers with what was sent (no allocation when equal).
   */
  private localAnswers(): Record<string, LocalAnswer> | undefined {
    const listened = this.listenerCount("ffiCall") > 0;
    const answerOf = (name: string) => (listened ? undefined : localAnswerOf(this.ffi?.get(name)));
    const sent = this.#localSent;
    if (sent !== undefined && STANDARD_HOOKS.every((name, i) => answerOf(name) === sent[i])) return undefined;
    const answers = STANDARD_HOOKS.map(answerOf);
    this.#localSent = answers;
    const local: Record<string, LocalAnswer> = {};
    for (const [i, name] of STANDARD_HOOKS.entries()) {
      const answer = answers[i];
      if (answer !== undefined) local[name] = answer;
    }
    return local;
  }

  /** @internal the worker could not set up the VM of a machine handed out before it answered */
  createFailed(error: MachineError): void {
    if (this.state === "Destroyed" || this.state === "Timeout") return;
    this.vmFatal(error, "Destroyed");
  }

  /**
   * @internal the worker ended; `ranAway` when this VM was the one that never yielded.
   * Every other VM on that worker is lost with it (`worker_lost`, state Destroyed).
   */
  workerEnded(ranAway: boolean, reason?: string): void {
    if (this.state === "Destroyed" || this.state === "Timeout") return;
    if (ranAway) {
      this.vmFatal(
        new MachineError("timeout", `the VM ran past ${this.hardTimeoutMs} ms without yielding`),
        "Timeout",
      );
    } else {
      this.vmFatal(
        new MachineError(
          "worker_lost",
          `the worker hosting this VM was ended${reason ? ` (${reason})` : ""}; its state is lost, create a new machine`,
        ),
        "Destroyed",
      );
    }
  }

  /** A request outside an interaction: resolves with the reply or throws its typed error. */
  private async call(body: Parameters<WorkerSlot["request"]>[0]): Promise<RequestReply> {
    try {
      const reply = await this.slot.request(body, this.hardTimeoutMs);
      if (reply.ok) return reply;
      const error = new MachineError(reply.code, reply.message);
      if (reply.fatal) this.vmFatal(error, "Destroyed");
      throw error;
    } catch (e) {
      if (e instanceof MachineError && (e.code === "timeout" || e.code === "worker_lost")) {
        this.workerEnded(e.code === "timeout");
      }
      throw e;
    }
  }

  /** A request inside an interaction: its run is processed, errors end the interaction. */
  private drive(body: Parameters<WorkerSlot["request"]>[0]): void {
    this.slot.request(body, this.hardTimeoutMs).then(
      (reply) => {
        if (this.state === "Destroyed" || this.state === "Timeout") return;
        if (reply.ok) {
          if (reply.run) this.process(reply.run);
          return;
        }
        const error = new MachineError(reply.code, reply.message);
        if (reply.fatal) this.vmFatal(error, "Destroyed");
        else this.failInteraction(error);
      },
      (e: unknown) => {
        if (e instanceof MachineError && (e.code === "timeout" || e.code === "worker_lost")) {
          this.workerEnded(e.code === "timeout");
        } else if (this.state !== "Destroyed") {
          this.vmFatal(
            e instanceof MachineError ? e : new MachineError("vm_trap", errorMessage(e)),
            "Destroyed",
          );
        }
      },
    );
  }

  private process(run: VmRun): void {
    for (const ev of run.events) {
      switch (ev.t) {
        case "initDone":
          this.vmInitDone();
          break;
        case "exit":
          this.vmExit(ev.result ? this.decode(ev.result, "exit result") : undefined, ev.withResult);
          break;
        case "panic":
          this.vmPanic({
            code: ev.code,
            message: ev.message,
            backtrace: ev.backtrace,
            location: ev.location,
          });
          break;
        case "timeout":
          this.vmTimeout();
          break;
        case "cell":
          this.emitCell(this.decode(ev.args, "$outputWithVersion args"));
          break;
        case "outputError":
          this.vmBuiltinFfi("$outputError");
          this.vmOutputError(asArgs(this.decode(ev.args, "$outputError args"))[0]);
          break;
        case "log":
          this.vmBuiltinFfi("$log");
          this.vmLog(logMessage(this.decode(ev.args, "$log args")));
          break;
        case "builtin":
          this.vmBuiltinFfi(ev.name);
          break;
      }
      if (this.state === "Destroyed" || this.state === "Timeout") return;
    }
    const stop = run.stop;
    if (stop.type === "idle") {
      this.vmIdle();
      return;
    }
    const { coroutine } = stop;
    const sink: FfiAnswerSink = {
      return: (value) => {
        let block: Uint8Array;
        try {
          block = encodeRmx(value);
        } catch (e) {
          this.drive({
            op: "abort",
            vm: this.vm,
            coroutine,
            message: `FFI ${stop.name} returned a non-Mix value: ${errorMessage(e)}`,
          });
          return;
        }
        this.drive({ op: "return", vm: this.vm, coroutine, value: block });
      },
      abort: (message) => this.drive({ op: "abort", vm: this.vm, coroutine, message }),
      later: () => this.drive({ op: "later", vm: this.vm }),
    };
    this.vmFfiCall(stop.name, asArgs(this.decode(stop.args, `${stop.name} args`)), stop.location, sink);
  }

  private emitCell(args: MixValue): void {
    this.vmBuiltinFfi("$outputWithVersion");
    const [name, version, value] = asArgs(args);
    if (typeof name !== "string") {
      this.logger?.warn({ machine: this.id }, "$outputWithVersion without a cell name");
      return;
    }
    this.vmCell({ name, version: typeof version === "string" ? version : "", value });
  }

  private decode(block: Uint8Array, what: string): MixValue {
    try {
      return decodeRmx(block);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      this.logger?.warn({ machine: this.id, what, code: e.code }, "undecodable value from the VM");
      return undefined;
    }
  }
}

function asArgs(value: MixValue): MixValue[] {
  return Array.isArray(value) ? value : [value];
}

function logMessage(args: MixValue): LogMessage {
  const [severity, text] = asArgs(args);
  return {
    severity: typeof severity === "string" ? severity : "info",
    text: typeof text === "string" ? text : String(text),
  };
}

function encodeArgs(value: MixValue, what: string): Uint8Array {
  try {
    return encodeRmx(value);
  } catch (e) {
    throw new MachineError("bad_args", `${what} cannot cross into the VM: ${errorMessage(e)}`);
  }
}

function checkName(s: unknown, what: string): void {
  if (typeof s !== "string") throw new MachineError("bad_args", `${what} must be a string`);
  if (new TextEncoder().encode(s).length > MAX_NAME)
    throw new MachineError("bad_args", `${what} is longer than ${MAX_NAME} bytes`);
  if (s.includes("\0")) throw new MachineError("bad_args", `${what} must not contain NUL`);
}

function checkCodeID(codeID: number): void {
  if (!Number.isInteger(codeID) || codeID < 0 || codeID > 0x7fffffff) {
    throw new MachineError("bad_args", "codeID must be a non-negative 31-bit integer");
  }
}
