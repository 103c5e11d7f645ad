import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { DEFAULT_MESSAGE_BYTES } from "@amp/http-edge";
import { answerClientErrors } from "@amp/http-edge/node";
import { createAdaptorServer, type WebSocketServerLike } from "@hono/node-server";
import { WebSocketServer } from "ws";
import type { ListenAddress } from "./component.js";

type Fetch = Parameters<typeof createAdaptorServer>[0]["fetch"];

interface SocketState {
  /** Requests on this socket whose response has not finished. */
  active: number;
  /** Handed to a WebSocket: its owner closes it, the drain does not wait for it. */
  upgraded: boolean;
}

/**
 * One HTTP port that can drain: stop accepting, let in-flight requests finish, close
 * idle keep-alive connections, and destroy what is left when the grace runs out.
 * WebSocket upgrades (hono's `upgradeWebSocket` from @hono/node-server) work on it.
 */
export class HttpListener {
  private readonly server: Server;
  // A frame past maxPayload (bytes) is refused from its header, before its payload is read.
  private readonly webSockets = new WebSocketServer({ noServer: true, maxPayload: DEFAULT_MESSAGE_BYTES });
  private readonly sockets = new Map<Socket, SocketState>();
  private draining = false;
  private cut = false;
  private closed: Promise<void> = Promise.resolve();
  private onSocketsChanged: (() => void) | undefined;

  constructor(fetch: Fetch) {
    this.server = createAdaptorServer({
      fetch,
      websocket: { server: this.webSockets as unknown as WebSocketServerLike },
    }) as Server;
    answerClientErrors(this.server);
    this.server.on("connection", (socket: Socket) => {
      this.sockets.set(socket, { active: 0, upgraded: false });
      socket.once("close", () => {
        this.sockets.delete(socket);
        this.onSocketsChanged?.();
      });
    });
    this.server.on("request", (request: IncomingMessage, response: ServerResponse) =>
      this.track(request.socket, response),
    );
    this.webSockets.on("connection", (_ws, request: IncomingMessage) => {
      const state = this.sockets.get(request.socket);
      if (state) state.upgraded = true;
    });
  }

  listen(port: number, host: string | undefined): Promise<ListenAddress> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        this.closed = new Promise((done) => this.server.once("close", () => done()));
        const address = this.server.address() as AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /** HTTP connections open now (excluding WebSockets). */
  get httpConnections(): number {
    let count = 0;
    for (const state of this.sockets.values()) if (!state.upgraded) count++;
    return count;
  }

  /**
   * Stops accepting and waits up to `graceMs` for in-flight requests. Resolves true when
   * every HTTP connection closed in time, false when the grace ran out (or destroy() ran).
   */
  async drain(graceMs: number): Promise<boolean> {
    this.draining = true;
    if (this.server.listening) this.server.close();
    for (const [socket, state] of this.sockets) if (!state.upgraded && state.active === 0) socket.end();
    if (this.httpConnections === 0) return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(false), graceMs);
      const finish = (drained: boolean) => {
        clearTimeout(timer);
        this.onSocketsChanged = undefined;
        resolve(drained);
      };
      this.onSocketsChanged = () => {
        if (this.cut) finish(false);
        else if (this.httpConnections === 0) finish(true);
      };
    });
  }

  /** Closes the port at once: every connection and WebSocket is cut. */
  async destroy(): Promise<void> {
    this.draining = true;
    this.cut = true;
    if (this.server.listening) this.server.close();
    for (const client of this.webSockets.clients) client.terminate();
    for (const socket of this.sockets.keys()) socket.destroy();
    this.onSocketsChanged?.();
    this.webSockets.close();
    await this.closed;
  }

  private track(socket: Socket, response: ServerResponse): void {
    const state = this.sockets.get(socket);
    if (!state) return;
    state.active++;
    if (this.draining) response.shouldKeepAlive = false;
    response.once("close", () => {
      state.active--;
      if (this.draining && state.active === 0) socket.end();
    });
  }
}
