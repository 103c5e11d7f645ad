import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import { MachineError } from "../errors.js";
import type { RequestReply, WorkerReply, WorkerRequest } from "./protocol.js";

type Body = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, "seq"> : never) : never;

interface Pending {
  seq: number;
  vm: number;
  hardMs: number;
  resolve: (reply: RequestReply) => void;
  reject: (error: MachineError) => void;
  startedAt: number;
}

/** Receives what happens to the VMs of a worker that ended. */
export interface SlotOwner {
  /** The worker ended: `culprit` ran past its hard limit (undefined when the worker crashed). */
  workerEnded(slot: WorkerSlot, culprit: number | undefined): void;
  line(vm: number, line: string): void;
}

// Built code runs dist/groovebox/worker.js. Tests and tsx scripts load the TypeScript
// sources; the worker then registers tsx's loader itself (Node 20 does not apply
// `--import tsx` hooks inside workers) and resolves sibling packages from source.
const fromSource = import.meta.url.endsWith(".ts");
const WORKER_URL = new URL(fromSource ? "./worker.ts" : "./worker.js", import.meta.url);

function startWorker(): Worker {
  if (!fromSource) return new Worker(WORKER_URL);
  const boot = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true, execArgv: ["--conditions=@amp/source"] });
}

/**
 * One worker thread and the requests in flight to it. The worker handles requests
 * one at a time, in order, so the head of the queue is the one running: a timer on
 * the head is the hard wall-clock guard. When it fires the worker is terminated.
 */
export class WorkerSlot {
  readonly worker: Worker;
  /** Hashes of the modules this worker already holds. */
  readonly modules = new Set<string>();
  /** Spares the worker holds, by stash key, as it last said (a hint: it builds a VM when short). */
  readonly spares = new Map<string, number>();
  /** Keys of the warm targets this worker was told about. */
  readonly warmed = new Set<string>();
  /** Live VM ids on this worker. */
  readonly vms = new Set<number>();
  /** VMs this worker has hosted since it started. */
  hosted = 0;
  /** When its last request settled (`performance.now()`). */
  #settledAt = performance.now();
  #seq = 0;
  #queue: Pending[] = [];
  #guard: ReturnType<typeof setTimeout> | undefined;
  #ended = false;
  /** Why the worker failed, when it did. */
  lastError: string | undefined;

  constructor(
    private readonly owner: SlotOwner,
    private readonly logger: Logger | undefined,
  ) {
    this.worker = startWorker();
    this.worker.unref();
    this.worker.on("message", (reply: WorkerReply) => this.onReply(reply));
    this.worker.on("error", (e) => {
      this.lastError = e.message;
      this.logger?.error({ err: e.message }, "Groovebox worker failed");
      this.end(undefined);
    });
    this.worker.on("exit", () => this.end(undefined));
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Milliseconds since the worker last had a request in flight (0 while it has one). */
  get idleMs(): number {
    return this.#queue.length > 0 ? 0 : performance.now() - this.#settledAt;
  }

  /** True while the running request has been busy longer than `ms` (the worker is stuck or slow). */
  busyFor(ms: number): boolean {
    const head = this.#queue[0];
    return head !== undefined && performance.now() - head.startedAt > ms;
  }

  request(body: Body, hardMs: number, transfer: Transferable[] = []): Promise<RequestReply> {
    if (this.#ended)
      return Promise.reject(new MachineError("worker_lost", "the worker hosting this VM has ended"));
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      // Queued only once posted: a request that cannot be posted (an uncloneable value) must not
      // stay at the head, where every later reply would look out of order.
      this.worker.postMessage({ ...body, seq } as WorkerRequest, transfer as never);
      this.#queue.push({ seq, vm: body.vm, hardMs, resolve, reject, startedAt: performance.now() });
      if (this.#queue.length === 1) this.armGuard();
    });
  }

  async terminate(): Promise<void> {
    this.#ended = true;
    this.failAll(new MachineError("destroyed", "the pool was closed"));
    await this.worker.terminate();
  }

  private onReply(reply: WorkerReply): void {
    // A worker ended for running past a hard limit may still deliver what it had sent before
    // it was terminated; its requests were already failed, so those replies are dropped.
    if (this.#ended) return;
    if (reply.seq === -1) {
      if ("line" in reply) this.owner.line(reply.vm, reply.line);
      else if ("warning" in reply) this.logger?.warn({ err: reply.err }, reply.warning);
      else if ("spares" in reply) this.spares.set(reply.spares, reply.count);
      return;
    }
    const head = this.#queue[0];
    if (head === undefined || head.seq !== reply.seq) {
      this.logger?.error({ seq: reply.seq }, "Groovebox worker replied out of order");
      return;
    }
    this.#queue.shift();
    this.#settledAt = performance.now();
    this.armGuard();
    head.resolve(reply as RequestReply);
  }

  private armGuard(): void {
    if (this.#guard !== undefined) clearTimeout(this.#guard);
    this.#guard = undefined;
    const head = this.#queue[0];
    if (head === undefined) return;
    head.startedAt = performance.now();
    this.#guard = setTimeout(() => {
      this.logger?.warn(
        { vm: head.vm, hardMs: head.hardMs },
        "VM ran past its hard limit; ending its worker",
      );
      this.end(head.vm);
    }, head.hardMs);
  }

  private end(culprit: number | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    const runaway = this.#queue.find((p) => p.vm === culprit);
    if (runaway !== undefined) {
      this.lastError = `VM ${runaway.vm} on the same worker ran past its hard limit of ${runaway.hardMs} ms`;
    }
    if (this.#guard !== undefined) clearTimeout(this.#guard);
    for (const p of this.#queue) {
      p.reject(
        p.vm === culprit
          ? new MachineError(
              "timeout",
              `the VM ran for more than ${p.hardMs} ms without yielding and was ended`,
            )
          : new MachineError(
              "worker_lost",
              `the worker hosting this VM was ended${this.lastError ? ` (${this.lastError})` : ""}; its state is lost, create a new machine`,
            ),
      );
    }
    this.#queue = [];
    void this.worker.terminate();
    this.owner.workerEnded(this, culprit);
  }

  private failAll(error: MachineError): void {
    if (this.#guard !== undefined) clearTimeout(this.#guard);
    for (const p of this.#queue) p.reject(error);
    this.#queue = [];
  }
}
