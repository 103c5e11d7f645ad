import { isBinary, isCase, isMixArray, isMixMap, MixCase, MixOpaque, type MixValue } from "@amp/codec";
import WebSocket from "ws";
import { TrackError } from "../errors.js";
import type { OutboundHttp } from "../outbound/http-client.js";
import { ffiFailure, numberOf } from "./args.js";
import type { SessionFfiGroup } from "./scoped.js";

/** Limits of `$websocket_*`, per session. */
export interface WebSocketLimits {
  /** Open sockets per session. Default 16. */
  maxSockets: number;
  /** Largest frame read or written, bytes. Default 1 MiB. */
  maxFrameBytes: number;
  /** Messages queued for `$websocket_read` per socket; past it the socket is closed with an error. Default 256. */
  maxQueued: number;
  /** Bytes waiting to be sent per socket; a write past it is refused. Default 4 MiB. */
  maxBufferedBytes: number;
  /** Longest connect timeout (`config.timeout`, seconds; default there 300 as in the reference host). Default 30 s. */
  maxConnectSeconds: number;
}

export const DEFAULT_WEBSOCKET_LIMITS: WebSocketLimits = {
  maxSockets: 16,
  maxFrameBytes: 1024 * 1024,
  maxQueued: 256,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxConnectSeconds: 30,
};

type Incoming =
  | { kind: "message"; data: string | Uint8Array }
  | { kind: "close"; code: number; reason: string }
  | { kind: "error"; message: string };

interface Socket {
  readonly id: number;
  readonly tags: readonly string[];
  readonly ws: WebSocket;
  readonly readTimeoutMs: number;
  readonly incoming: Incoming[];
  reader: ((item: Incoming) => void) | undefined;
  /** Set by an error (and by `$websocket_close`): what `$websocket_error` answers. */
  error: string | undefined;
  /** Once read, the close event is answered to every later read. */
  closed: { code: number; reason: string } | undefined;
}

interface Sockets {
  next: number;
  readonly open: Map<number, Socket>;
}

/**
 * `$websocket_create/write/read/close/error`: a real outbound WebSocket client for the VM, with the
 * shapes of the reference host (`machine-wasm-core.js`, standalone mode) and `$http_do`'s outbound
 * rules (allowed hosts; loopback and private addresses only for `privateHosts`, checked on the
 * resolved address). Sockets belong to the session and are closed when it ends.
 *
 * - `$websocket_create({url, resourceTags: [string], subprotocols?, timeout? (s, connect), readTimeout? (s)})`
 *   → an opaque handle once open (`ws:` or `wss:`).
 * - `$websocket_write(handle, case)`: `websocket.textMsg(string)`, `websocket.binMsg(binary)`,
 *   `websocket.closeMsg({code, text})`; `websocket.pingMsg`/`pongMsg` are ignored → null.
 * - `$websocket_read(handle)` → `websocket.textMsg(s)`, `websocket.binMsg(b)` or
 *   `websocket.closeMsg({code, text})` (again on every later read); aborts on an error, or with
 *   "websocket timeout" after `readTimeout` seconds when it is set.
 * - `$websocket_close(handle)` → null (forgiving); `$websocket_error(handle)` → the error text or undefined.
 */
export function websocketFfis(
  outbound: OutboundHttp,
  limits: Partial<WebSocketLimits> = {},
): SessionFfiGroup<Sockets> {
  const lim = { ...DEFAULT_WEBSOCKET_LIMITS, ...limits };
  const lookup = (state: Sockets, handle: MixValue): Socket => {
    const id = handle instanceof MixOpaque && handle.words.length === 1 ? handle.words[0]! : undefined;
    const socket = id === undefined ? undefined : state.open.get(id);
    if (!socket) throw new Error("websocket: bad handle");
    return socket;
  };
  const deliver = (socket: Socket) => {
    if (socket.reader && socket.incoming.length > 0) {
      const r = socket.reader;
      socket.reader = undefined;
      r(socket.incoming.shift()!);
    }
  };
  const push = (socket: Socket, item: Incoming) => {
    if (item.kind === "message" && socket.incoming.length >= lim.maxQueued) {
      const message = `websocket: more than ${lim.maxQueued} unread messages; closed`;
      socket.error = message;
      socket.incoming.push({ kind: "error", message });
      socket.ws.terminate();
    } else {
      socket.incoming.push(item);
    }
    deliver(socket);
  };

  return {
    name: "websocket",
    prepare: () => ({ next: 1, open: new Map() }),
    dispose(state) {
      for (const socket of state.open.values()) socket.ws.terminate();
      state.open.clear();
    },
    handlers: {
      $websocket_create: async (args, ctx, state) => {
        const config = args[0];
        if (!isMixMap(config)) throw new Error("websocket.create: the argument must be a map");
        const tags = config.resourceTags;
        if (!isMixArray(tags) || !tags.every((t) => typeof t === "string")) {
          throw new Error("websocket.create: config key 'resourceTags' must be an array of strings");
        }
        const protocols = config.subprotocols ?? [];
        if (!isMixArray(protocols) || !protocols.every((t) => typeof t === "string")) {
          throw new Error("websocket.create: config key 'subprotocols' must be an array of strings");
        }
        const timeout = config.timeout === undefined ? 300 : numberOf(config.timeout);
        if (timeout === undefined) throw new Error("websocket.create: config key 'timeout' must be a number");
        const readTimeout = config.readTimeout === undefined ? 0 : numberOf(config.readTimeout);
        if (readTimeout === undefined)
          throw new Error("websocket.create: config key 'readTimeout' must be a number");
        if (typeof config.url !== "string")
          throw new Error("websocket.create: config key 'url' must be a string");
        let url: URL;
        try {
          url = new URL(config.url);
        } catch {
          throw new Error("websocket.create: config key 'url' is not a URL");
        }
        if (url.protocol !== "wss:" && url.protocol !== "ws:") {
          throw new Error(`websocket.create: restricted to ws/wss URLs, but got ${url.protocol}`);
        }
        url.hash = "";
        if (state.open.size >= lim.maxSockets) {
          throw ffiFailure(
            ctx.name,
            new TrackError("Track-tooLarge", `at most ${lim.maxSockets} open WebSockets per session`),
          );
        }
        try {
          outbound.check(new URL(url.href.replace(/^ws/, "http")));
        } catch (e) {
          throw ffiFailure(ctx.name, e);
        }
        const connectSeconds = Math.min(timeout > 0 ? timeout : lim.maxConnectSeconds, lim.maxConnectSeconds);
        const ws = new WebSocket(url, protocols as string[], {
          lookup: outbound.guardedLookup(url.hostname),
          maxPayload: lim.maxFrameBytes,
          handshakeTimeout: connectSeconds * 1000,
          followRedirects: false,
          perMessageDeflate: false,
        });
        const id = state.next++;
        const socket: Socket = {
          id,
          tags: tags as string[],
          ws,
          readTimeoutMs: Math.max(0, readTimeout) * 1000,
          incoming: [],
          reader: undefined,
          error: undefined,
          closed: undefined,
        };
        state.open.set(id, socket);
        ws.binaryType = "nodebuffer";
        ws.on("message", (data: Buffer, isBinaryFrame) => {
          push(socket, {
            kind: "message",
            data: isBinaryFrame ? new Uint8Array(data) : data.toString("utf8"),
          });
        });
        try {
          await new Promise<void>((resolve, reject) => {
            ws.once("open", () => resolve());
            ws.once("error", reject);
            ws.once("close", () => reject(new Error("websocket closed while connecting")));
          });
        } catch (e) {
          state.open.delete(id);
          ws.terminate();
          const cause = (e as { cause?: unknown }).cause;
          throw ffiFailure(ctx.name, cause instanceof TrackError ? cause : e);
        }
        ws.on("error", (e) => {
          socket.error = e.message;
          push(socket, { kind: "error", message: e.message });
        });
        ws.on("close", (code, reason) =>
          push(socket, { kind: "close", code, reason: reason.toString("utf8") }),
        );
        return new MixOpaque(Uint32Array.of(id));
      },

      $websocket_write: (args, _ctx, state) => {
        const socket = lookup(state, args[0]);
        const item = args[1];
        if (!isCase(item)) throw new Error("websocket.write: bad message");
        const size = (v: MixValue) =>
          typeof v === "string"
            ? Buffer.byteLength(v)
            : isBinary(v)
              ? v.byteLength
              : Number.POSITIVE_INFINITY;
        const send = (data: string | Uint8Array) => {
          if (size(data) > lim.maxFrameBytes)
            throw new Error(`websocket.write: a message over ${lim.maxFrameBytes} bytes`);
          if (socket.ws.readyState !== WebSocket.OPEN)
            throw new Error("websocket.write: the websocket is not open");
          if (socket.ws.bufferedAmount + size(data) > lim.maxBufferedBytes)
            throw new Error(`websocket.write: more than ${lim.maxBufferedBytes} bytes waiting to be sent`);
          socket.ws.send(data);
        };
        switch (item.name) {
          case "websocket.textMsg":
            if (typeof item.arg !== "string") throw new Error("websocket.write: textMsg needs a string");
            send(item.arg);
            break;
          case "websocket.binMsg":
            if (!isBinary(item.arg)) throw new Error("websocket.write: binMsg needs binary data");
            send(item.arg);
            break;
          case "websocket.pingMsg":
          case "websocket.pongMsg":
            break;
          case "websocket.closeMsg": {
            const arg = isMixMap(item.arg) ? item.arg : {};
            const code = numberOf(arg.code) ?? 1000;
            const text = typeof arg.text === "string" ? arg.text : "";
            if (!(code === 1000 || (code >= 3000 && code <= 4999)) || Buffer.byteLength(text) > 123) {
              throw new Error(
                "websocket.write: closeMsg needs code 1000 or 3000-4999 and a text of ≤123 bytes",
              );
            }
            socket.ws.close(code, text);
            break;
          }
          default:
            throw new Error("websocket.write: bad message");
        }
        return null;
      },

      $websocket_read: (args, _ctx, state) => {
        const socket = lookup(state, args[0]);
        if (socket.reader) throw new Error("websocket.read: there is already a reader");
        return new Promise<Incoming>((resolve) => {
          if (socket.incoming.length > 0) return resolve(socket.incoming.shift()!);
          if (socket.closed) return resolve({ kind: "close", ...socket.closed });
          if (socket.error !== undefined) return resolve({ kind: "error", message: socket.error });
          let timer: ReturnType<typeof setTimeout> | undefined;
          socket.reader = (item) => {
            if (timer) clearTimeout(timer);
            resolve(item);
          };
          if (socket.readTimeoutMs > 0) {
            timer = setTimeout(() => {
              socket.reader = undefined;
              resolve({ kind: "error", message: "websocket timeout" });
            }, socket.readTimeoutMs);
          }
        }).then((item): MixValue => {
          switch (item.kind) {
            case "message":
              return typeof item.data === "string"
                ? new MixCase("websocket.textMsg", item.data)
                : new MixCase("websocket.binMsg", item.data);
            case "close":
              socket.closed = { code: item.code, reason: item.reason };
              return new MixCase("websocket.closeMsg", { code: item.code, text: item.reason });
            case "error":
              throw new Error(item.message);
          }
        });
      },

      $websocket_close: (args, _ctx, state) => {
        try {
          const socket = lookup(state, args[0]);
          socket.error = "closed";
          socket.ws.terminate();
          state.open.delete(socket.id);
          socket.reader?.({ kind: "error", message: "closed" });
        } catch {
          // forgiving, as the reference host
        }
        return null;
      },

      $websocket_error: (args, _ctx, state) => {
        try {
          return lookup(state, args[0]).error;
        } catch (e) {
          return (e as Error).message;
        }
      },
    },
  };
}
