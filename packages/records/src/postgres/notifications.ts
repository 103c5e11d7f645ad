import pg from "pg";
import type { Logger } from "pino";

/** Backoff between attempts to listen again after the connection is lost. */
const RETRY_MS = [250, 1_000, 2_000, 5_000];
/** Longest one attempt to connect and LISTEN may take. */
const ATTEMPT_MS = 10_000;
/** Channels are code's own constants; anything else is refused before it reaches SQL. */
const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

type Handler = (payload: string | undefined) => void;

/**
 * One `LISTEN` connection for every channel of a process (the apps engine's changes, the
 * records'), opened on the first subscriber and kept open across PostgreSQL restarts.
 * Subscribers of a channel hear `undefined` (changes may have been missed: reload) once
 * listening to it starts, when the connection drops, and once listening again.
 */
export class NotificationListener {
  readonly #handlers = new Map<string, Set<Handler>>();
  #client: pg.Client | undefined;
  #connecting: Promise<void> | undefined;
  /** LISTENs issued on the open connection for channels subscribed after it opened. */
  #adding: Promise<void> = Promise.resolve();
  #attempt = 0;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  subscribe(channel: string, handler: Handler): () => void {
    if (!CHANNEL_NAME.test(channel)) throw new Error(`not a channel name: ${JSON.stringify(channel)}`);
    let handlers = this.#handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(channel, handlers);
      const client = this.#client;
      if (client) this.#adding = this.#adding.then(() => this.#listenOn(client, channel));
    }
    handlers.add(handler);
    if (!this.#client && !this.#connecting && !this.#retry) this.#connecting = this.#connect();
    return () => handlers.delete(handler);
  }

  /** Resolves once listening to every channel subscribed so far (or after a failed attempt, which retries on its own). */
  async ready(): Promise<void> {
    await this.#connecting;
    await this.#adding;
  }

  /** Listening now (false while the connection is down or not yet open). */
  get listening(): boolean {
    return this.#client !== undefined;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    await this.#connecting;
    await this.#adding;
    const client = this.#client;
    this.#client = undefined; // so its 'end' is not taken for a loss
    await client?.end().catch(() => {});
  }

  /** A channel added while connected: LISTEN, then its subscribers reload (they may have missed changes). */
  async #listenOn(client: pg.Client, channel: string): Promise<void> {
    try {
      await client.query(`LISTEN ${channel}`);
    } catch {
      return; // the connection is lost: reconnecting listens to every channel
    }
    if (this.#client === client) this.#emit(channel, undefined);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: 5_000,
      query_timeout: 5_000,
    });
    client.on("error", () => this.#lost(client));
    client.on("end", () => this.#lost(client));
    client.on("notification", (message) => this.#emit(message.channel, message.payload ?? ""));
    const channels = [...this.#handlers.keys()];
    try {
      // Bounded as a whole: a server that is coming back up may accept and then not answer.
      await withTimeout(
        (async () => {
          await client.connect();
          // One round trip for every channel (names checked by subscribe).
          await client.query(channels.map((channel) => `LISTEN ${channel};`).join(" "));
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
    for (const channel of channels) this.#emit(channel, undefined);
    // Channels subscribed while connecting.
    for (const channel of this.#handlers.keys()) {
      if (!channels.includes(channel))
        this.#adding = this.#adding.then(() => this.#listenOn(client, channel));
    }
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    for (const channel of this.#handlers.keys()) this.#emit(channel, undefined);
    this.#schedule(undefined);
  }

  #schedule(err: unknown): void {
    if (this.#closed || this.#retry) return;
    const delay = RETRY_MS[Math.min(this.#attempt, RETRY_MS.length - 1)] ?? 5_000;
    this.#attempt++;
    this.logger.warn(
      {
        channels: [...this.#handlers.keys()],
        retryMs: delay,
        err: err instanceof Error ? err.message : undefined,
      },
      "PostgreSQL notifications lost; listening again",
    );
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (!this.#closed) this.#connecting = this.#connect();
    }, delay);
    this.#retry.unref();
  }

  #emit(channel: string, payload: string | undefined): void {
    for (const handler of this.#handlers.get(channel) ?? []) handler(payload);
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
