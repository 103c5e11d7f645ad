import { Worker } from "node:worker_threads";
import { decodeMsgpack, type MixMap } from "@amp/codec";
import type { Logger } from "pino";
import { AppsError, type AppsErrorCode, QueryTooCostlyError } from "../errors.js";
import type { Query } from "../query/index.js";
import { QueryCursorError, QueryError, type QueryErrorCode } from "../query/index.js";
import type { StoreQueryResult } from "./query-executor.js";

/** A request to the query worker. */
export type QueryWorkerRequest =
  | {
      readonly id: number;
      readonly type: "query";
      /** The app's LMDB environment. */
      readonly path: string;
      readonly indexedFields: readonly string[];
      readonly query: Query;
      readonly maxExamined: number;
    }
  /** Closes the worker's handle on an environment (its store is closing). */
  | { readonly id: number; readonly type: "close"; readonly path: string }
  /**
   * Decodes stored documents (one buffer, cut by `lengths`) and answers those `filter` keeps:
   * the PostgreSQL engine's scan pages, so that their decoding is not on the event loop.
   */
  | {
      readonly id: number;
      readonly type: "filter";
      readonly filter: Query["filter"];
      readonly docs: Uint8Array;
      readonly lengths: readonly number[];
    };

/** An error as it crosses the thread boundary. */
export interface WorkerError {
  readonly kind: "too_costly" | "apps" | "query" | "other";
  readonly code?: string;
  readonly message: string;
  readonly fields?: readonly string[];
  readonly limit?: number;
}

export type QueryWorkerReply =
  | {
      readonly id: number;
      readonly ok: true;
      /** The page's documents as one @amp/codec msgpack array (exact for every Mix value). */
      readonly documents?: Uint8Array;
      readonly next?: string;
      readonly plan?: StoreQueryResult["plan"];
    }
  | { readonly id: number; readonly ok: false; readonly error: WorkerError };

export function toWorkerError(err: unknown): WorkerError {
  if (err instanceof QueryTooCostlyError)
    return { kind: "too_costly", message: err.message, fields: err.fields, limit: err.limit };
  if (err instanceof AppsError) return { kind: "apps", code: err.code, message: err.message };
  if (err instanceof QueryError) return { kind: "query", code: err.code, message: err.message };
  return { kind: "other", message: err instanceof Error ? err.message : String(err) };
}

function fromWorkerError(e: WorkerError): Error {
  switch (e.kind) {
    case "too_costly":
      return new QueryTooCostlyError(e.fields ?? [], e.limit ?? 0, e.message);
    case "apps":
      return new AppsError(e.code as AppsErrorCode, e.message);
    case "query":
      return e.code === "query_cursor"
        ? new QueryCursorError(e.message)
        : new QueryError(e.code as QueryErrorCode, e.message);
    default:
      return new Error(`query worker: ${e.message}`);
  }
}

// Built code runs dist/store/query-worker.js. Tests and tsx scripts load the TypeScript
// sources; the worker then registers tsx's loader itself (Node 20 does not apply
// `--import tsx` hooks inside workers) and resolves sibling packages from source.
const fromSource = import.meta.url.endsWith(".ts");
const WORKER_URL = new URL(fromSource ? "./query-worker.ts" : "./query-worker.js", import.meta.url);

function startWorker(): Worker {
  if (!fromSource) return new Worker(WORKER_URL);
  const boot = `import("tsx/esm/api").then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true, execArgv: ["--conditions=@amp/source"] });
}

interface Pending {
  resolve: (reply: QueryWorkerReply & { ok: true }) => void;
  reject: (error: Error) => void;
}

/**
 * One worker thread that runs the queries too expensive for the event loop. It opens
 * each app's LMDB environment itself (lmdb-js shares one environment between the threads
 * of a process) and reads a fresh snapshot per query, so it sees every write committed
 * before the query was sent. Queries run one at a time, in arrival order. The worker
 * starts with the first query and is restarted if it dies.
 */
export class QueryThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly logger?: Logger) {}

  /** Runs a query on the worker; errors are rebuilt as the same typed errors. */
  async run(
    path: string,
    indexedFields: readonly string[],
    query: Query,
    maxExamined: number,
  ): Promise<StoreQueryResult> {
    const reply = await this.send((id) => ({ id, type: "query", path, indexedFields, query, maxExamined }));
    const documents = decodeMsgpack(reply.documents!) as MixMap[];
    const plan = reply.plan!;
    return reply.next === undefined ? { documents, plan } : { documents, next: reply.next, plan };
  }

  /** The documents of `docs` (stored bytes, cut by `lengths`) that `filter` keeps, in order. */
  async filter(filter: Query["filter"], docs: Uint8Array, lengths: readonly number[]): Promise<MixMap[]> {
    const reply = await this.send((id) => ({ id, type: "filter", filter, docs, lengths }), [docs.buffer]);
    return decodeMsgpack(reply.documents!) as MixMap[];
  }

  /** Drops the worker's handle on an environment; resolves once it is closed there. */
  async closeEnvironment(path: string): Promise<void> {
    if (!this.worker) return;
    await this.send((id) => ({ id, type: "close", path }));
  }

  /** Ends the worker; queries still in flight fail. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
    this.failAll(new AppsError("bad_request", "the query thread is closed"));
  }

  /** `transfer`: buffers handed to the worker rather than copied (unusable here afterwards). */
  private send(
    make: (id: number) => QueryWorkerRequest,
    transfer: ArrayBufferLike[] = [],
  ): Promise<QueryWorkerReply & { ok: true }> {
    if (this.closed) return Promise.reject(new AppsError("bad_request", "the query thread is closed"));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // Referenced only while a request is in flight: an idle worker keeps no process alive.
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      worker.postMessage(make(id), transfer as ArrayBuffer[]);
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker();
    worker.unref();
    worker.on("message", (reply: QueryWorkerReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.ok) p.resolve(reply);
      else p.reject(fromWorkerError(reply.error));
    });
    const ended = (err: unknown) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (!this.closed) this.logger?.error({ err }, "query worker ended");
      this.failAll(new Error(`query worker ended: ${err instanceof Error ? err.message : String(err)}`));
    };
    worker.on("error", ended);
    worker.on("exit", (code) => ended(new Error(`exit code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private failAll(err: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(err);
  }
}
