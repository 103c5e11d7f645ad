import pg from "pg";
import type { Logger } from "pino";

/** Backoff between attempts to listen again after the connection is lost. */
const RETRY_MS = [250, 1_000, 2_000, 5_000];
/** Longest one attempt to connect and LISTEN may take. */
const ATTEMPT_MS = 10_000;

/**
 * One `LISTEN` connection for a channel, opened on the first subscriber and kept open across
 * PostgreSQL restarts. Subscribers hear `undefined` (changes may have been missed: reload) once
 * listening starts, when the connection drops, and once listening again.
 */
export class NotificationListener {
  readonly #handlers = new Set<(payload: string | undefined) => void>();
  #client: pg.Client | undefined;
  #connecting: Promise<void> | undefined;
  #attempt = 0;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly url: string,
    private readonly channel: string,
    private readonly logger: Logger,
  ) {}

  subscribe(handler: (payload: string | undefined) => void): () => void {
    this.#handlers.add(handler);
    if (!this.#client && !this.#connecting) this.#connecting = this.#connect();
    return () => this.#handlers.delete(handler);
  }

  /** Resolves once listening (or after a failed attempt, which retries on its own). */
  async ready(): Promise<void> {
    await this.#connecting;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    await this.#connecting;
    const client = this.#client;
    this.#client = undefined; // so its 'end' is not taken for a loss
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: 5_000,
      query_timeout: 5_000,
    });
    client.on("error", () => this.#lost(client));
    client.on("end", () => this.#lost(client));
    client.on("notification", (message) => {
      if (message.channel === this.channel) this.#emit(message.payload ?? "");
    });
    try {
      // Bounded as a whole: a server that is coming back up may accept and then not answer.
      await withTimeout(
        (async () => {
          await client.connect();
          await client.query(`LISTEN ${this.channel}`);
        })(),
        ATTEMPT_MS,
      );
    } catch (err) {
      client.removeAllListeners("end");
      // Not awaited: ending a client whose connection never opened may never settle.
      void client.end().catch(() => {});
      this.#connecting = undefined;
      this.#schedule(err);
      return;
    }
    if (this.#closed) {
      await client.end().catch(() => {});
      return;
    }
    this.#attempt = 0;
    this.#client = client;
    this.#connecting = undefined;
    // Writes made before LISTEN took effect (at the first subscription, or while the connection
    // was down) were not heard: a reload now catches them.
    this.#emit(undefined);
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    this.#emit(undefined);
    this.#schedule(undefined);
  }

  #schedule(err: unknown): void {
    if (this.#closed || this.#retry) return;
    const delay = RETRY_MS[Math.min(this.#attempt, RETRY_MS.length - 1)] ?? 5_000;
    this.#attempt++;
    this.logger.warn(
      { channel: this.channel, retryMs: delay, err: err instanceof Error ? err.message : undefined },
      "PostgreSQL notifications lost; listening again",
    );
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (!this.#closed) this.#connecting = this.#connect();
    }, delay);
    this.#retry.unref();
  }

  #emit(payload: string | undefined): void {
    for (const handler of this.#handlers) handler(payload);
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
