import type { Duplex } from "node:stream";
import pg from "pg";

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

interface Pending {
  readonly resolve: (doc: Buffer | undefined) => void;
  readonly reject: (err: Error) => void;
  doc: Buffer | undefined;
  error: Error | undefined;
}

/**
 * Point reads on one connection of their own, pipelined: each `get` writes Bind, Execute and
 * Sync of a prepared statement in one buffer without waiting for earlier answers, and the
 * answers come back in order. The document comes back in binary (raw bytea, a view of the
 * socket's buffer: no hex text, no copy). pg's query machinery (pool checkout, query queue,
 * row objects, type parsers) cost more than the round trip itself here, so the connection is
 * opened and authenticated by pg (URL, TLS, passwords as everywhere else) and then read and
 * written directly. A lost connection fails the reads under way; the next read reconnects.
 */
export class PointReader {
  #connection: Promise<Connection> | undefined;
  /** The open connection, once there is one: reads go straight to it. */
  #open: Connection | undefined;
  #closed = false;

  constructor(private readonly url: string) {}

  get(store: number, id: string): Promise<Buffer | undefined> {
    return this.#open ? this.#open.get(store, id) : this.#connectAndGet(store, id);
  }

  async #connectAndGet(store: number, id: string): Promise<Buffer | undefined> {
    if (this.#closed) throw new Error("the point reader is closed");
    this.#connection ??= Connection.open(this.url, () => {
      this.#connection = undefined;
      this.#open = undefined;
    });
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

  async close(): Promise<void> {
    this.#closed = true;
    this.#open = undefined;
    const connection = await this.#connection?.catch(() => undefined);
    this.#connection = undefined;
    await connection?.close();
  }
}

class Connection {
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

  static async open(url: string, onLost: () => void): Promise<Connection> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    client.on("error", () => {}); // reported as 'end' below, or through connect/query
    try {
      await client.connect();
      await client.query({ name: STATEMENT, text: SELECT_DOC, values: [0, ""] });
    } catch (err) {
      void client.end().catch(() => {});
      throw err;
    }
    // pg keeps its 'end'/'error' handling of the socket; only the reading is taken over.
    const stream = (client as unknown as { connection: { stream: Duplex } }).connection.stream;
    stream.removeAllListeners("data");
    const connection = new Connection(client, stream, onLost);
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
