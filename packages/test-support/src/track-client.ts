import WebSocket from "ws";

// Track's suites, its benchmarks and the server's end-to-end test all drive `/{app}/track.ws`
// as Remix's runtime does; this is the one client they share.

/** The fields of a track `msg_response` the client reads (`@amp/track`'s `TrackResponse` has them all). */
export interface TrackReply {
  _rmx_type: string;
  _rmx_echo?: string;
  session?: string;
  responseTo?: string;
  errors?: { code?: string; message: string };
  cellMessages: Array<{ name: string; version: string; value: unknown }>;
}

/** An answer and what came before it. */
export interface TrackExchange<R extends TrackReply> {
  /** The response that carries the request's `_rmx_echo`. */
  response: R;
  /** The responses pushed between the request and its answer. */
  pushed: R[];
  /** Every cell of `pushed` and of `response`, in order. */
  cells: R["cellMessages"];
}

/**
 * A track WebSocket client that collects every message, answers `$keepAlive` like the real
 * runtime, and pairs each request with its answer by `_rmx_echo`. `R` is the response type a
 * suite reads (track binds its own `TrackResponse`).
 */
export class TrackClient<R extends TrackReply = TrackReply> {
  readonly received: R[] = [];
  keepAlives = 0;
  #waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const m = JSON.parse(String(data)) as R;
      if (m.cellMessages?.[0]?.name === "$keepAlive") {
        this.keepAlives++;
        ws.send(JSON.stringify({ _rmx_type: "msg_session_keepAlive", session: m.session }));
      }
      this.received.push(m);
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  /** Opens `/{app}/track.ws?token=…` on the server at `baseUrl` (`http://host:port`). */
  static open<C>(this: new (ws: WebSocket) => C, baseUrl: string, app: string, token: string): Promise<C> {
    const url = `${baseUrl.replace(/^http/, "ws")}/${app}/track.ws?token=${encodeURIComponent(token)}`;
    // biome-ignore lint/complexity/noThisInStatic: a subclass (track binds its TrackResponse) opens an instance of itself
    return connect(this, url);
  }

  /** Opens a track socket at a full `ws://` URL. */
  static connect<C>(this: new (ws: WebSocket) => C, url: string): Promise<C> {
    // biome-ignore lint/complexity/noThisInStatic: a subclass (track binds its TrackResponse) opens an instance of itself
    return connect(this, url);
  }

  /** Sends a message and resolves with the response naming it in `_rmx_echo`, plus the pushes before it. */
  async request(message: Record<string, unknown>, timeoutMs = 20_000): Promise<TrackExchange<R>> {
    const echo = `e${Math.random().toString(36).slice(2)}`;
    const start = this.received.length;
    this.ws.send(JSON.stringify({ ...message, _rmx_echo: echo }));
    const deadline = Date.now() + timeoutMs;
    for (let seen = start; ; ) {
      for (; seen < this.received.length; seen++) {
        if (this.received[seen]!._rmx_echo === echo) {
          const response = this.received[seen]!;
          const pushed = this.received.slice(start, seen);
          const cells = [...pushed, response].flatMap((m) => m.cellMessages);
          return { response, pushed, cells };
        }
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no answer to ${String(message._rmx_type)} in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ws.close();
  }
}

function connect<C>(Client: new (ws: WebSocket) => C, url: string): Promise<C> {
  const ws = new WebSocket(url);
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(new Client(ws)));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once("error", reject);
  });
}
