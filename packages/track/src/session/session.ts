import type { AmpUser } from "@amp/auth";
import type { Cell, Interaction, Machine } from "@amp/machine";
import type { TrackResponse } from "../protocol/response.js";

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "silent";
const LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error", "silent"];

/** Where a session's pushed messages (streamed cells, keepAlives) go: a WebSocket connection. */
export interface SessionSink {
  send(response: TrackResponse): void;
}

/**
 * One user's VM for one app. Interactions run one at a time (a promise chain), so
 * messages that arrive while the VM is busy wait their turn instead of failing.
 */
export class Session {
  readonly createdAt = Date.now();
  lastActive = Date.now();
  lastKeepAlive = Date.now();
  /** Set while a client connection is attached; pushes go there. */
  sink: SessionSink | undefined;
  /** When the last connection went away (the grace period runs from here). */
  detachedAt: number | undefined;
  destroyed = false;
  /** Lowest severity of VM log lines passed to the client (`msg_introspect_loglevel`). */
  logLevel: LogLevel = "trace";
  /** The client's VM debug mask (`msg_vm_logMask`), kept for introspection. */
  logMask = 0;
  /** Interactions queued or running. */
  busy = 0;
  /** Libraries `$loader_loadLibrary` loaded into the VM, by `name.variant` (a load in flight is shared). */
  readonly libraries = new Map<string, Promise<void>>();
  /** The code ID the next library gets (the app's executable is code 0). */
  nextCodeID = 1;
  readonly #cleanups: Array<() => void | Promise<void>> = [];
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly id: string,
    readonly app: string,
    readonly user: AmpUser,
    /** The token the session was opened with; the VM's `token` (never logged). */
    readonly token: string,
    readonly machine: Machine,
    readonly timeoutMs: number,
  ) {}

  /** True when a VM log line of `severity` passes the session's log level. */
  shows(severity: string): boolean {
    const rank = LEVELS.indexOf(severity.toLowerCase() as LogLevel);
    return rank < 0 || rank >= LEVELS.indexOf(this.logLevel);
  }

  touch(): void {
    this.lastActive = Date.now();
  }

  /** Runs `task` after every earlier interaction of this session has finished. */
  run<T>(task: () => Promise<T>): Promise<T> {
    this.busy++;
    const next = this.#queue.then(task, task);
    this.#queue = next.then(
      () => this.busy--,
      () => this.busy--,
    );
    return next;
  }

  /**
   * Runs one VM entry, handing each cell to `onCell` as the VM produces it (before the
   * interaction ends), in the session's queue.
   */
  enter(
    tag: string,
    args: Parameters<Machine["enter"]>[3],
    onCell?: (cell: Cell) => void,
  ): Promise<Interaction> {
    return this.run(async () => {
      if (onCell) this.machine.on("cell", onCell);
      try {
        return await this.machine.enter(tag, "", 0, args);
      } finally {
        if (onCell) this.machine.off("cell", onCell);
        this.touch();
      }
    });
  }

  /** Registers something to release when the session ends (subscriptions, timers). */
  onDestroy(cleanup: () => void | Promise<void>): void {
    this.#cleanups.push(cleanup);
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.sink = undefined;
    for (const cleanup of this.#cleanups.splice(0)) {
      try {
        await cleanup();
      } catch {
        // a failing cleanup must not keep the VM alive
      }
    }
    await this.machine.destroy();
  }
}
