import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { BodyTooLargeError, httpError } from "./errors.js";

/** The default largest message (a JSON body, a WebSocket frame) where a route says nothing else. */
export const DEFAULT_MESSAGE_BYTES = 1024 * 1024;
/** An unread body of at most this many bytes is read and dropped so the connection stays usable. */
export const DRAIN_MAX_BYTES = 1024 * 1024;
const DRAIN_TIMEOUT_MS = 1000;

const STATE = Symbol.for("@amp/http-edge:body");
/** Marks a route's `bodyLimit` middleware, so the default knows the route declared its own. */
const DECLARED = Symbol.for("@amp/http-edge:declared-limit");
/** Where Hono keeps the handler a mounted sub-app's route wraps (hono/utils/constants). */
const COMPOSED_HANDLER = "__COMPOSED_HANDLER";

interface BodyState {
  /** Bytes this request's body may have; undefined = no limit declared anywhere. */
  limit: number | undefined;
  read: number;
  ended: boolean;
  exceeded: boolean;
  /** The reader of the original body, under the counting stream. */
  inner: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /**
   * The body is not wrapped: it comes from Node's HTTP parser with a declared Content-Length within
   * the limit, and the parser never delivers more than that. The route reads it directly
   * (@hono/node-server's fast path, no web streams); a body left unread is drained afterwards.
   */
  direct: boolean;
}

type Tagged = Request & { [STATE]?: BodyState };

/** The body state of this request, installing the counting stream on first use. */
function bodyState(c: Context, limit: number | undefined): BodyState {
  const raw = c.req.raw as Tagged;
  const existing = raw[STATE];
  if (existing) return existing;
  // A GET or HEAD request never has a body (Fetch): decided from the method, because reading
  // `raw.body` makes @hono/node-server build a full undici Request (≈30 µs a request).
  const method = raw.method;
  const bodiless = method === "GET" || method === "HEAD";
  const state: BodyState = {
    limit,
    read: 0,
    ended: bodiless,
    exceeded: false,
    inner: undefined,
    direct: false,
  };
  if (!bodiless && fromNodeParser(c)) {
    const declared = declaredLength(c);
    if (declared !== undefined && (limit === undefined || declared <= limit)) {
      state.direct = true;
      state.ended = declared === 0;
      Object.defineProperty(raw, STATE, { value: state });
      return state;
    }
  }
  if (bodiless || raw.body === null) {
    state.ended = true;
    Object.defineProperty(raw, STATE, { value: state });
    return state;
  }
  const inner = raw.body.getReader();
  state.inner = inner;
  // Pulled one chunk at a time (high water mark 0): bytes are counted as the route reads them,
  // and nothing past the limit is read or buffered.
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: Awaited<ReturnType<typeof inner.read>>;
        try {
          chunk = await inner.read();
        } catch (error) {
          controller.error(error);
          return;
        }
        if (chunk.done) {
          state.ended = true;
          controller.close();
          return;
        }
        state.read += chunk.value.byteLength;
        if (state.limit !== undefined && state.read > state.limit) {
          state.exceeded = true;
          controller.error(new BodyTooLargeError(state.limit));
          return;
        }
        controller.enqueue(chunk.value);
      },
      // A reader that gives up leaves the rest to the drain (or to Connection: close).
      cancel() {},
    },
    { highWaterMark: 0 },
  );
  const limited = new Request(raw, { body, duplex: "half" } as RequestInit) as Tagged;
  Object.defineProperty(limited, STATE, { value: state });
  c.req.raw = limited;
  return state;
}

/** A request read by Node's HTTP parser (@hono/node-server puts the IncomingMessage in `c.env`). */
function fromNodeParser(c: Context): boolean {
  const env = c.env as { incoming?: { complete?: unknown } } | undefined;
  return typeof env?.incoming?.complete === "boolean";
}

function declaredLength(c: Context): number | undefined {
  const header = c.req.header("content-length");
  if (header === undefined || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header);
}

/**
 * A route's body limit, in bytes: put it in the route's declaration
 * (`createRoute({..., middleware: [bodyLimit(64 * 1024)]})`), its only place. A declared
 * `Content-Length` past it is refused at once; a streamed body is refused (413 `too_large`)
 * as soon as the bytes read pass it, before anything beyond is buffered. It replaces the
 * server's default limit (`defaultBodyLimit`) for this route, larger or smaller.
 */
export function bodyLimit(maxBytes: number): MiddlewareHandler {
  const middleware: MiddlewareHandler = async (c, next) => {
    const state = bodyState(c, maxBytes);
    state.limit = maxBytes;
    refuseDeclared(c, state);
    await next();
  };
  return Object.assign(middleware, { [DECLARED]: maxBytes });
}

/** 413 at once when the declared Content-Length is past the limit: nothing is read. */
function refuseDeclared(c: Context, state: BodyState): void {
  const declared = declaredLength(c);
  if (state.limit !== undefined && declared !== undefined && declared > state.limit) {
    state.exceeded = true;
    throw new BodyTooLargeError(state.limit);
  }
}

/** Whether a route this request matched declares its own `bodyLimit`. */
function routeDeclaresLimit(c: Context): boolean {
  type Marked = { [DECLARED]?: number; [COMPOSED_HANDLER]?: Marked };
  return matchedRoutes(c).some(({ handler }) => {
    const marked = handler as unknown as Marked;
    return marked[DECLARED] !== undefined || marked[COMPOSED_HANDLER]?.[DECLARED] !== undefined;
  });
}

/**
 * The server-wide default: routes that declare no `bodyLimit` take `maxBytes`. Mounted once, in
 * front of every route. It also keeps keep-alive honest: when a route answered without reading
 * the whole body (a 401, 404 or 429 before the body), a body of at most `DRAIN_MAX_BYTES` still
 * to come is read and dropped; a larger or unknown one gets `Connection: close`, so the client
 * never sends its next request into a connection that is about to close.
 */
export function defaultBodyLimit(maxBytes: number): MiddlewareHandler {
  return async (c, next) => {
    const state = bodyState(c, maxBytes);
    // A route that declares no limit of its own gets this one, announced lengths refused up front.
    if (!routeDeclaresLimit(c)) refuseDeclared(c, state);
    await next();
    if (state.direct && !state.ended) {
      if (!c.req.raw.bodyUsed) {
        // Not read by the route: read the rest now (the rare path, through a web stream).
        const body = c.req.raw.body;
        state.inner = body === null ? undefined : body.getReader();
      } else if (!(c.env as { incoming: { complete: boolean } }).incoming.complete) {
        // Read in part (a reader that gave up): the rest cannot be drained from here.
        c.header("Connection", "close");
        return;
      }
      state.direct = false;
    }
    if (state.ended || state.inner === undefined) return;
    const declared = declaredLength(c);
    const remaining = declared === undefined ? Number.POSITIVE_INFINITY : declared - state.read;
    if (!state.exceeded && remaining <= DRAIN_MAX_BYTES && (await drain(state.inner, DRAIN_MAX_BYTES)))
      return;
    c.header("Connection", "close");
  };
}

/** Reads and drops the rest of a body; false when it is larger than `max` or slow. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, max: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), DRAIN_TIMEOUT_MS);
  });
  const read = (async () => {
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return true;
      size += value.byteLength;
      if (size > max) return false;
    }
  })().catch(() => false);
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether this request's body went past its limit (the answer is then 413, whatever was thrown). */
export function bodyLimitExceeded(c: Context): number | undefined {
  const state = (c.req.raw as Tagged)[STATE];
  return state?.exceeded ? state.limit : undefined;
}

/**
 * The request body as chunks, under the route's limit (a declared one, else `fallbackMax`):
 * nothing past the limit is read or buffered.
 */
export async function* bodyChunks(c: Context, fallbackMax?: number): AsyncGenerator<Uint8Array> {
  const state = bodyState(c, fallbackMax);
  if (state.limit === undefined && fallbackMax !== undefined) state.limit = fallbackMax;
  refuseDeclared(c, state);
  const body = c.req.raw.body;
  if (!body) return;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** The whole request body as bytes, under the route's limit (see `bodyChunks`). */
export async function readBody(c: Context, fallbackMax?: number): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of bodyChunks(c, fallbackMax)) parts.push(part);
  return Buffer.concat(parts);
}

/**
 * A JSON request body read by the route itself (not by a zod validator): the content type must
 * be JSON (415 `unsupported_media_type` otherwise), the bytes within the limit, the text JSON
 * (400 `bad_request` otherwise).
 */
export async function readJson(c: Context, fallbackMax?: number): Promise<unknown> {
  if (!isJsonType(c.req.header("content-type")))
    throw httpError("unsupported_media_type", "send the body as application/json");
  const bytes = await readBody(c, fallbackMax);
  try {
    return JSON.parse(bytes.toString("utf8")) as unknown;
  } catch {
    throw httpError("bad_request", "invalid JSON body");
  }
}

/** `application/json` or a `+json` type, with or without parameters. */
export function isJsonType(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/([a-z0-9.-]+\+)?json\s*(;|$)/i.test(contentType);
}
