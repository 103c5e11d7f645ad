import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import type { Broker } from "./broker.js";

/** Where Remix clients reach the broker over WebSocket. */
export const BROKER_WS_PATH = "/x/broker.ws";

export interface BrokerWebSocketOptions {
  /** Default `/x/broker.ws`. */
  path?: string;
  /** Largest WebSocket message; default 16 MiB (the broker's packet limit applies as well). */
  maxPayloadBytes?: number;
}

/**
 * Serves MQTT over WebSocket for one path. Use `handleUpgrade` from an HTTP server's 'upgrade'
 * event (it returns false for other paths, so other handlers, e.g. @hono/node-server's, keep them),
 * or `attachBrokerWebSocket` to do that wiring.
 */
export class BrokerWebSocket {
  readonly #broker: Broker;
  readonly #path: string;
  readonly #wss: WebSocketServer;

  constructor(broker: Broker, options: BrokerWebSocketOptions = {}) {
    this.#broker = broker;
    this.#path = options.path ?? BROKER_WS_PATH;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayloadBytes ?? 16 * 1024 * 1024,
      // MQTT over WebSocket names the "mqtt" subprotocol; echo it when offered.
      handleProtocols: (protocols) =>
        protocols.has("mqtt") ? "mqtt" : protocols.has("mqttv3.1") ? "mqttv3.1" : false,
    });
  }

  /** Takes the upgrade when the path is ours; returns whether it did. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const path = (req.url ?? "").split("?")[0];
    if (path !== this.#path) return false;
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#broker.handleWebSocket(ws, req));
    return true;
  }

  close(): void {
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
  }
}

/** Adds the broker's WebSocket path to an HTTP server; returns a function that removes it. */
export function attachBrokerWebSocket(
  server: Server,
  broker: Broker,
  options: BrokerWebSocketOptions = {},
): () => void {
  const endpoint = new BrokerWebSocket(broker, options);
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (endpoint.handleUpgrade(req, socket, head)) return;
    // Alone on this server, nobody else will answer: refuse rather than leave the socket hanging.
    if (server.listenerCount("upgrade") === 1)
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
  };
  server.on("upgrade", onUpgrade);
  return () => {
    server.off("upgrade", onUpgrade);
    endpoint.close();
  };
}
