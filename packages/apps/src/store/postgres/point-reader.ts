import { Duplex } from "node:stream";
import pg from "pg";
import type { Logger } from "pino";

/** The one statement this connection runs; prepared once per connection. */
const STATEMENT = "amp_point_get";
const SELECT_DOC = "SELECT doc FROM amp_docs WHERE store = $1 AND id = $2";
/** PostgreSQL's own ceiling on a message; anything longer is a broken stream. */
const MAX_MESSAGE = 1 << 30;
/** Bind (after its variable part), Execute and Sync, in bytes: see `request`. */
const FIXED_BYTES = 1 + 4 + 1 + (STATEMENT.length + 1) + 2 + 2 + 4 + 4 + 2 + 2 + (1 + 4 + 1 + 4) + (1 + 4);

/** An `ErrorResponse` from the server, with its SQLSTATE as `code` (as pg's own errors carry it). */
export class PointReadError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "PointReadError";
  }
}

export interface PointReaderOptions {
  /** Told once when the reads fall back to pg's own prepared query. */
  readonly logger: Logger;
  /**
   * false: always pg's own prepared query, as when pg's socket is not where this reader expects
   * it (tests compare the two paths). Default true.
   */
  readonly pipelined?: boolean;
}

interface Pending {
  readonly resolve: (doc: Buffer | undefined) => void;
  readonly reject: (err: Error) => void;
  doc: Buffer | undefined;
  error: Error | undefined;
}

/** What both ways of reading answer: a document's bytes, or undefined when there is none. */
interface Connection {
  get(store: number, id: string): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

/**
 * pg's socket (`client.connection.stream`, not pg's public API), or undefined unless it is still
 * a Duplex that pg reads through 'data' events, the one thing taking it over relies on: a pg
 * that moves or reads it otherwise gets the slower query path, not broken reads.
 */
export function pgSocket(client: object): Duplex | undefined {
  const stream = (client as { connection?: { stream?: unknown } }).connection?.stream;
  return stream instanceof Duplex && stream.listenerCount("data") > 0 ? stream : undefined;
}

/**
 * Point reads on one connection of their own, pipelined: each `get` writes Bind, Execute and
 * Sync of a prepared statement in one buffer without waiting for earlier answers, and the
 * answers come back in order. The document comes back in binary (raw bytea, a view of the
 * socket's buffer: no hex text, no copy). pg's query machinery (pool checkout, query queue,
 * row objects, type parsers) cost more than the round trip itself here, so the connection is
 * opened and authenticated by pg (URL, TLS, passwords as everywhere else) and then read and
 * written directly. When pg's socket is not what that needs (`pgSocket`), the reads go through
 * pg's own prepared query on that connection instead, slower but the same answers, and that is
 * logged once. A lost connection fails the reads under way; the next read reconnects.
 */
export class PointReader {
  #connection: Promise<Connection> | undefined;
  /** The open connection, once there is one: reads go straight to it. */
  #open: Connection | undefined;
  #closed = false;
  #toldFallback = false;

  constructor(
    private readonly url: string,
    private readonly options: PointReaderOptions,
  ) {}

  get(store: number, id: string): Promise<Buffer | undefined> {
    return this.#open ? this.#open.get(store, id) : this.#connectAndGet(store, id);
  }

  async #connectAndGet(store: number, id: string): Promise<Buffer | undefined> {
    if (this.#closed) throw new Error("the point reader is closed");
    this.#connection ??= this.#connect();
    const opening = this.#connection;
    let connection: Connection;
    try {
      connection = await opening;
    } catch (err) {
      if (this.#connection === opening) this.#connection = undefined;
      throw err;
    }
    if (this.#connection === opening && !this.#closed) this.#open = connection;
    return connection.get(store, id);
  }

  async #connect(): Promise<Connection> {
    const onLost = () => {
      this.#connection = undefined;
      this.#open = undefined;
    };
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5_000 });
    client.on("error", () => {}); // reported as 'end' below, or through connect/query
    try {
      await client.connect();
      await client.query({ name: STATEMENT, text: SELECT_DOC, values: [0, ""] });
    } catch (err) {
      void client.end().catch(() => {});
      throw err;
    }
    const stream = this.options.pipelined === false ? undefined : pgSocket(client);
    if (stream) return PipelinedConnection.take(client, stream, onLost);
    if (!this.#toldFallback) {
      this.#toldFallback = true;
      this.options.logger.warn(
        { pipelined: this.options.pipelined !== false },
        "point reads go through pg's prepared query: pg's socket is not what the pipelined reader takes over",
      );
    }
    return new QueryConnection(client, onLost);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#open = undefined;
    const connection = await this.#connection?.catch(() => undefined);
    this.#connection = undefined;
    await connection?.close();
  }
}

/** The fallback: pg's own named (prepared) query, one after another (pg 9 will not queue them). */
class QueryConnection implements Connection {
  #lost: Error | undefined;
  /** The read before the next one: settles, fulfilled or rejected, when that read is done. */
  #last: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: pg.Client,
    onLost: () => void,
  ) {
    client.on("end", () => {
      this.#lost ??= new PointReadError("08006", "Connection terminated");
      onLost();
    });
  }

  get(store: number, id: string): Promise<Buffer | undefined> {
    const read = this.#last.then(() => this.#read(store, id));
    this.#last = read.catch(() => {});
    return read;
  }

  async #read(store: number, id: string): Promise<Buffer | undefined> {
    if (this.#lost) throw this.#lost;
    const result = await this.client.query<{ doc: Buffer }>({
      name: STATEMENT,
      text: SELECT_DOC,
      values: [store, id],
    });
    return result.rows[0]?.doc;
  }

  async close(): Promise<void> {
    this.#lost ??= new PointReadError("57P01", "the point reader is closed");
    await this.client.end().catch(() => {});
  }
}

class PipelinedConnection implements Connection {
  readonly #waiting: Pending[] = [];
  #chunks: Buffer[] = [];
  #size = 0;
  /** Bytes needed before the next message can be parsed. */
  #need = 5;
  #lost: Error | undefined;

  private constructor(
    private readonly client: pg.Client,
    private readonly stream: Duplex,
    private readonly onLost: () => void,
  ) {}

  /** Takes the reading of pg's socket over; pg keeps its 'end'/'error' handling of it. */
  static take(client: pg.Client, stream: Duplex, onLost: () => void): PipelinedConnection {
    stream.removeAllListeners("data");
    const connection = new PipelinedConnection(client, stream, onLost);
    stream.on("data", (chunk: Buffer) => connection.#received(chunk));
    client.on("end", () => connection.#fail(new PointReadError("08006", "Connection terminated")));
    return connection;
  }

  get(store: number, id: string): Promise<Buffer | undefined> {
    if (this.#lost) return Promise.reject(this.#lost);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject, doc: undefined, error: undefined });
      this.stream.write(request(store, id));
    });
  }

  async close(): Promise<void> {
    this.#lost ??= new PointReadError("57P01", "the point reader is closed");
    await this.client.end().catch(() => {});
  }

  #received(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#size < this.#need) return;
    // A large row arrives in many chunks: joined once, when it is all here.
    const buf = this.#chunks.length === 1 ? chunk : Buffer.concat(this.#chunks, this.#size);
    let at = 0;
    for (;;) {
      if (buf.length - at < 5) {
        this.#need = 5;
        break;
      }
      const length = buf.readInt32BE(at + 1);
      if (length < 4 || length > MAX_MESSAGE) {
        this.#fail(new PointReadError("08P01", `a message of ${length} bytes from the server`));
        this.stream.destroy();
        return;
      }
      if (buf.length - at < length + 1) {
        this.#need = length + 1;
        break;
      }
      this.#message(buf[at]!, buf.subarray(at + 5, at + 1 + length));
      at += length + 1;
    }
    const rest = at === buf.length ? undefined : buf.subarray(at);
    this.#chunks = rest ? [rest] : [];
    this.#size = rest?.length ?? 0;
  }

  /** One message: a row, an error or the end of a read; the rest (BindComplete, notices…) say nothing. */
  #message(type: number, body: Buffer): void {
    const head = this.#waiting[0];
    if (type === 0x44 /* D: DataRow */) {
      if (head === undefined) return;
      const length = body.readInt32BE(2);
      head.doc = length < 0 ? undefined : body.subarray(6, 6 + length);
    } else if (type === 0x45 /* E: ErrorResponse */) {
      if (head !== undefined) head.error = serverError(body);
    } else if (type === 0x5a /* Z: ReadyForQuery */) {
      const done = this.#waiting.shift();
      if (done?.error) done.reject(done.error);
      else done?.resolve(done.doc);
    }
  }

  #fail(err: Error): void {
    if (this.#lost === undefined) {
      this.#lost = err;
      this.onLost();
    }
    for (const pending of this.#waiting.splice(0)) pending.reject(err);
  }
}

/** Bind (text parameters, binary result), Execute and Sync: one write, one answer. */
function request(store: number, id: string): Buffer {
  const storeText = String(store);
  const idBytes = Buffer.byteLength(id);
  const buf = Buffer.allocUnsafe(FIXED_BYTES + storeText.length + idBytes);
  let at = 0;
  buf[at++] = 0x42; // B: Bind
  buf.writeInt32BE(4 + 1 + STATEMENT.length + 1 + 2 + 2 + 4 + storeText.length + 4 + idBytes + 2 + 2, at);
  at += 4;
  buf[at++] = 0; // the unnamed portal
  at += buf.write(STATEMENT, at, "latin1");
  buf[at++] = 0;
  at = buf.writeInt16BE(0, at); // every parameter in text
  at = buf.writeInt16BE(2, at);
  at = buf.writeInt32BE(storeText.length, at);
  at += buf.write(storeText, at, "latin1");
  at = buf.writeInt32BE(idBytes, at);
  at += buf.write(id, at, "utf8");
  at = buf.writeInt16BE(1, at); // one result format for all columns: binary
  at = buf.writeInt16BE(1, at);
  buf[at++] = 0x45; // E: Execute the unnamed portal, all rows
  at = buf.writeInt32BE(4 + 1 + 4, at);
  buf[at++] = 0;
  at = buf.writeInt32BE(0, at);
  buf[at++] = 0x53; // S: Sync
  buf.writeInt32BE(4, at);
  return buf;
}

/** An ErrorResponse's fields: `C` the SQLSTATE, `M` the message. */
function serverError(body: Buffer): PointReadError {
  let code = "XX000";
  let message = "PostgreSQL refused the read";
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const field = body[at]!;
    const end = body.indexOf(0, at + 1);
    if (end < 0) break;
    const value = body.toString("utf8", at + 1, end);
    if (field === 0x43) code = value;
    else if (field === 0x4d) message = value;
    at = end + 1;
  }
  return new PointReadError(code, message);
}
