import type { MixValue } from "@amp/codec";
import type { Logger } from "pino";
import type { Machine, MachineUser } from "../types.js";

/** What an FFI handler gets besides its arguments. */
export interface FfiContext {
  /** The FFI name as the app called it. */
  readonly name: string;
  readonly machine: Machine;
  readonly session: string | undefined;
  readonly user: MachineUser | undefined;
  /** `unit/pc/instr` of the call site. */
  readonly location: string;
  readonly logger: Logger | undefined;
}

/**
 * An FFI implementation. Return a value (sync), or a promise (async: the VM keeps
 * running other coroutines until it settles). Throwing or rejecting aborts the call
 * into the VM, which panics the calling coroutine.
 */
export type FfiHandler = (args: MixValue[], ctx: FfiContext) => MixValue | Promise<MixValue>;

/**
 * Named FFI handlers. A registry may have a parent: lookups fall through to it, so
 * a session can layer its own handlers over a shared table without copying it.
 */
export class FfiRegistry {
  readonly #handlers = new Map<string, FfiHandler>();

  constructor(private readonly parent?: FfiRegistry) {}

  register(name: string, handler: FfiHandler): this {
    if (name.length === 0 || name.length > 255) throw new RangeError(`bad FFI name: ${JSON.stringify(name)}`);
    this.#handlers.set(name, handler);
    return this;
  }

  registerAll(handlers: Readonly<Record<string, FfiHandler>>): this {
    for (const [name, handler] of Object.entries(handlers)) this.register(name, handler);
    return this;
  }

  get(name: string): FfiHandler | undefined {
    return this.#handlers.get(name) ?? this.parent?.get(name);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** All names this registry answers, including its parent's. */
  names(): string[] {
    const all = new Set(this.parent?.names());
    for (const n of this.#handlers.keys()) all.add(n);
    return [...all].sort();
  }

  /** A child registry whose own handlers shadow this one's. */
  extend(): FfiRegistry {
    return new FfiRegistry(this);
  }
}
