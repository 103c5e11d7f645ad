import type { MixValue } from "@amp/codec";
import { errorMessage, type FfiAnswerSink, MachineBase } from "../base.js";
import { MachineError } from "../errors.js";
import { initEnvValue } from "../init-env.js";
import type { InitEnv, Interaction, MachineOptions } from "../types.js";

/** What a native entry gets besides its args. */
export interface NativeContext {
  /** Calls an FFI through the machine's registry (same rules as the Groovebox: unknown → abort). */
  ffi(name: string, args: MixValue[]): Promise<MixValue>;
  /** Emits a cell, like `$outputWithVersion`. */
  output(cell: string, version: string, value: MixValue): void;
  /** Aborted when the interaction times out or the machine is destroyed. */
  readonly signal: AbortSignal;
  /** The init environment value (as the Groovebox's `initEnvExtract` sees it). */
  readonly env: MixValue;
}

export type NativeEntry = (args: MixValue, ctx: NativeContext) => Promise<MixValue | undefined>;

/** A module written in TypeScript: named async entries, and an optional init. */
export interface NativeModule {
  name: string;
  entries: Readonly<Record<string, NativeEntry>>;
  init?: (ctx: NativeContext) => Promise<void>;
}

export interface NativeMachineOptions extends MachineOptions {
  /** Modules `sendCode` may load; the code bytes are the module name in UTF-8. */
  modules: readonly NativeModule[];
}

/** Thrown into a native entry when an FFI call was aborted. */
export class FfiAbortError extends Error {
  override readonly name = "FfiAbortError";
}

/**
 * The Machine interface for modules written in TypeScript, running in-process with
 * the same states, events, timeouts and FFI registry as the Groovebox backend. A
 * thrown error in an entry is a panic (code 3, the JS stack as backtrace), and the
 * machine returns to Idle, as the Groovebox does.
 */
export class NativeMachine extends MachineBase {
  readonly backend = "native" as const;
  protected override readonly deliversLateAtOnce = true;
  readonly #available: Map<string, NativeModule>;
  readonly #sent = new Map<number, NativeModule>();
  readonly #linked: NativeModule[] = [];
  #env: MixValue = undefined;
  #abort = new AbortController();

  constructor(options: NativeMachineOptions) {
    super(options, "native");
    this.#available = new Map(options.modules.map((m) => [m.name, m]));
  }

  /** The bytes name the module (UTF-8); `name` is not needed here. */
  async sendCode(codeID: number, bytes: Uint8Array, _name?: string): Promise<void> {
    this.requireCodeState("sendCode");
    if (this.#sent.has(codeID)) throw new MachineError("unknown_code", `code ${codeID} was already sent`);
    const name = new TextDecoder().decode(bytes);
    const module = this.#available.get(name);
    if (module === undefined)
      throw new MachineError("not_groovebox", `no native module named ${JSON.stringify(name)}`);
    this.#sent.set(codeID, module);
  }

  /** Adds the module's entries; its `init` runs on the next `init` (there is no library init of its own). */
  async linkCode(codeID: number, _initFlag?: boolean): Promise<void> {
    this.requireCodeState("linkCode");
    const module = this.#sent.get(codeID);
    if (module === undefined) throw new MachineError("unknown_code", `code ${codeID} was never sent`);
    if (!this.#linked.includes(module)) this.#linked.push(module);
  }

  init(env: InitEnv): Promise<Interaction> {
    this.requireState("init", "Init", "Idle");
    this.#env = initEnvValue(env);
    const done = this.beginInteraction();
    void this.run(async (ctx) => {
      for (const m of this.#linked) await m.init?.(ctx);
      this.vmInitDone();
      return undefined;
    }, false);
    return done;
  }

  enter(
    tag: string,
    module: string,
    _entryID: number,
    args: MixValue,
    withResult = false,
  ): Promise<Interaction> {
    this.requireState("enter", "Idle");
    const entry = this.findEntry(tag, module);
    if (entry === undefined) {
      return Promise.reject(
        new MachineError("no_such_entry", `no entry ${tag} in module ${JSON.stringify(module)}`),
      );
    }
    const done = this.beginInteraction();
    void this.run((ctx) => entry(args, ctx), withResult);
    return done;
  }

  async destroy(): Promise<void> {
    if (this.state === "Destroyed") return;
    this.#abort.abort(new MachineError("destroyed", "the machine was destroyed"));
    this.markDestroyed();
  }

  private findEntry(tag: string, module: string): NativeEntry | undefined {
    for (const m of this.#linked) {
      if (module !== "" && m.name !== module) continue;
      const entry = Object.hasOwn(m.entries, tag) ? m.entries[tag] : undefined;
      if (entry !== undefined) return entry;
    }
    return undefined;
  }

  /** Runs one interaction body with the interaction timeout, then goes idle. */
  private async run(
    body: (ctx: NativeContext) => Promise<MixValue | undefined>,
    withResult: boolean,
  ): Promise<void> {
    const interaction = new AbortController();
    const destroyed = this.#abort.signal;
    const signal = AbortSignal.any([interaction.signal, destroyed]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.timeoutMs);
    });
    const ctx = this.context(signal);
    try {
      const outcome = await Promise.race([body(ctx).then((value) => ({ value })), timedOut]);
      if (destroyed.aborted) return;
      if (outcome === "timeout") {
        interaction.abort(new MachineError("timeout", "execution timed out"));
        this.vmTimeout();
      } else {
        this.vmExit(outcome.value, withResult);
      }
    } catch (e) {
      if (destroyed.aborted) return;
      this.vmPanic({
        code: 3,
        message: errorMessage(e),
        backtrace: e instanceof Error ? (e.stack ?? "") : "",
        location: "native",
      });
    } finally {
      clearTimeout(timer);
    }
    if (!destroyed.aborted) this.vmIdle();
  }

  private context(signal: AbortSignal): NativeContext {
    return {
      signal,
      env: this.#env,
      output: (cell, version, value) => {
        if (signal.aborted) return;
        this.vmBuiltinFfi("$outputWithVersion");
        this.vmCell({ name: cell, version, value });
      },
      ffi: (name, args) =>
        new Promise<MixValue>((resolve, reject) => {
          if (signal.aborted) {
            reject(new FfiAbortError(`FFI ${name} called after the interaction ended`));
            return;
          }
          const sink: FfiAnswerSink = {
            return: resolve,
            abort: (message) => reject(new FfiAbortError(message)),
            later: () => undefined,
          };
          this.vmFfiCall(name, args, "native", sink);
        }),
    };
  }
}
