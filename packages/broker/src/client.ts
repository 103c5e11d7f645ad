import { randomUUID } from "node:crypto";
import type { IClientOptions, MqttClient } from "mqtt";
import type { Logger } from "pino";
import type { MessageBus, MessageHandler, PublishOptions, SubscribeOptions, Unsubscribe } from "./bus.js";
import { BrokerError } from "./errors.js";
import type { JsonBodyCodec, RemixMessage } from "./message.js";
import { Requester, type RequestOptions } from "./request.js";
import { topicMatches } from "./topic-match.js";
import {
  type OutgoingMessage,
  publishMessage,
  type SubscribeMessagesOptions,
  subscribeMessages,
} from "./typed.js";

export interface BrokerClientOptions {
  /** `mqtt://host:port` or `ws://host:port/x/broker.ws`. */
  url: string;
  /** The user the token belongs to (sent as the CONNECT username). Omit with the token for anonymous. */
  username?: string;
  /** The token (sent as `Bearer <token>`); renew it with {@link BrokerClient.renewToken}. */
  token?: string;
  /** Default `amp-<random>`. */
  clientId?: string;
  /** Clean session (default true; subscriptions are then restored by the client on reconnect). */
  clean?: boolean;
  keepaliveSeconds?: number;
  /** Reconnect backoff: doubles from `minMs` to `maxMs`, with jitter. Defaults 250 ms and 30 s. */
  reconnect?: { minMs?: number; maxMs?: number };
  /** How long `connect` keeps retrying an unreachable broker. Default 10 s. */
  connectTimeoutMs?: number;
  /** Reply topic prefix for {@link BrokerClient.request}; must be a topic this user may subscribe to. */
  inbox?: string;
  json?: JsonBodyCodec;
  logger?: Logger;
}

/**
 * A broker connection for services and tools, on mqtt.js: token login, re-authentication on
 * renewal, reconnect with backoff, typed messages with the Remix header, and requests with replies.
 */
export class BrokerClient implements MessageBus {
  readonly clientId: string;
  readonly #options: BrokerClientOptions;
  readonly #mqtt: MqttClient;
  readonly #handlers = new Map<string, Set<MessageHandler>>();
  readonly #qos = new Map<string, 0 | 1 | 2>();
  #requester: Requester | undefined;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #closing = false;
  #renewing = false;
  #refused = false;

  private constructor(options: BrokerClientOptions, client: MqttClient, clientId: string) {
    this.#options = options;
    this.#mqtt = client;
    this.clientId = clientId;
    client.on("message", (topic, payload, packet) => {
      for (const [filter, handlers] of this.#handlers) {
        if (!topicMatches(filter, topic)) continue;
        for (const handler of handlers) {
          try {
            handler(topic, payload, { retain: packet.retain });
          } catch (error) {
            // one throwing handler must not break the connection or the other handlers
            options.logger?.error({ topic, err: (error as Error).message }, "message handler threw");
          }
        }
      }
    });
    client.on("connect", (connack) => {
      this.#attempt = 0;
      this.#refused = false;
      if (!connack.sessionPresent) this.#resubscribe();
    });
    client.on("error", (error: Error & { code?: number }) => {
      if (typeof error.code === "number") this.#refused = true; // a CONNACK refusal: retrying will not help
      options.logger?.warn({ clientId, err: error.message }, "broker client error");
    });
    client.on("close", () => this.#scheduleReconnect());
  }

  /** Connects; rejects with `BROKER_DENIED` when the broker refuses the token. */
  static async connect(options: BrokerClientOptions): Promise<BrokerClient> {
    const clientId = options.clientId ?? `amp-${randomUUID()}`;
    const mqttOptions: IClientOptions = {
      clientId,
      protocolVersion: 4,
      clean: options.clean ?? true,
      keepalive: options.keepaliveSeconds ?? 30,
      reconnectPeriod: 0, // we schedule reconnects ourselves, with backoff
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      resubscribe: false, // we restore subscriptions ourselves, after any kind of reconnect
      ...credentials(options.username, options.token),
    };
    // mqtt.js (with its streams and timers, ~80 modules) loads on the first connection: a server
    // that only hosts the broker never needs it.
    const { default: mqtt } = await import("mqtt");
    const client = mqtt.connect(options.url, mqttOptions);
    const broker = new BrokerClient(options, client, clientId);
    const deadline = Date.now() + (options.connectTimeoutMs ?? 10_000);
    await new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        client.off("connect", onConnect);
        client.off("error", onError);
        clearInterval(watch);
      };
      const onConnect = () => {
        cleanup();
        resolve();
      };
      const onError = (error: Error & { code?: number }) => {
        if (typeof error.code !== "number") return;
        cleanup();
        broker.#closing = true;
        client.end(true);
        reject(new BrokerError("BROKER_DENIED", `broker refused the connection: ${error.message}`));
      };
      const watch = setInterval(() => {
        if (Date.now() < deadline) return;
        cleanup();
        broker.#closing = true;
        client.end(true);
        reject(new BrokerError("BROKER_DISCONNECTED", `could not reach ${options.url}`));
      }, 100);
      client.on("connect", onConnect);
      client.on("error", onError);
    });
    return broker;
  }

  /** A new session (fresh, renewed or after a broker restart) has none of our subscriptions. */
  #resubscribe(): void {
    if (this.#qos.size === 0) return;
    const filters = Object.fromEntries([...this.#qos].map(([filter, qos]) => [filter, { qos }]));
    this.#mqtt.subscribe(filters, (error) => {
      if (error) this.#options.logger?.warn({ err: error.message }, "resubscribing after reconnect failed");
    });
  }

  get connected(): boolean {
    return this.#mqtt.connected;
  }

  #scheduleReconnect(): void {
    if (this.#closing || this.#renewing || this.#refused || this.#retryTimer) return;
    const min = this.#options.reconnect?.minMs ?? 250;
    const max = this.#options.reconnect?.maxMs ?? 30_000;
    const base = Math.min(max, min * 2 ** this.#attempt++);
    const delay = base / 2 + Math.random() * (base / 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#closing) return;
      this.#options.logger?.debug({ clientId: this.clientId, attempt: this.#attempt }, "reconnecting");
      this.#reconnectKeepingState();
    }, delay);
  }

  /** Reconnects after a lost connection, keeping unacknowledged QoS 1/2 messages (mqtt.js would drop its stores). */
  #reconnectKeepingState(): void {
    const client = this.#mqtt;
    client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
  }

  /**
   * Uses a renewed token. MQTT 3.1.1 has no re-authentication in a connection, so the client
   * reconnects with the new credentials (the session and subscriptions carry over).
   */
  async renewToken(token: string): Promise<void> {
    Object.assign(this.#mqtt.options, credentials(this.#options.username, token));
    this.#refused = false;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#renewing = true;
    try {
      // a graceful end waits for in-flight messages; then the same client id connects again
      if (this.#mqtt.connected) await this.#mqtt.endAsync();
    } finally {
      this.#renewing = false;
    }
    const connected = new Promise<void>((resolve, reject) => {
      const onConnect = () => {
        this.#mqtt.off("error", onError);
        resolve();
      };
      const onError = (error: Error & { code?: number }) => {
        if (typeof error.code !== "number") return;
        this.#mqtt.off("connect", onConnect);
        reject(new BrokerError("BROKER_DENIED", `broker refused the renewed token: ${error.message}`));
      };
      this.#mqtt.once("connect", onConnect);
      this.#mqtt.on("error", onError);
    });
    this.#mqtt.reconnect();
    await connected;
  }

  publish(topic: string, payload: Uint8Array, options: PublishOptions = {}): Promise<void> {
    return this.#mqtt
      .publishAsync(topic, Buffer.from(payload.buffer, payload.byteOffset, payload.length), {
        qos: options.qos ?? 0,
        retain: options.retain ?? false,
      })
      .then(() => undefined);
  }

  /** Subscribes; rejects with `BROKER_DENIED` when the broker refuses (SUBACK 0x80). */
  async subscribe(
    filter: string,
    handler: MessageHandler,
    options: SubscribeOptions = {},
  ): Promise<Unsubscribe> {
    let handlers = this.#handlers.get(filter);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(filter, handlers);
      try {
        // mqtt.js rejects on SUBACK 0x80 (carrying the SUBACK); older versions resolve with qos 128
        const granted = await this.#mqtt.subscribeAsync(filter, { qos: options.qos ?? 0 }).catch((error) => {
          if ((error as { packet?: { cmd?: string } }).packet?.cmd === "suback") return [{ qos: 128 }];
          throw error;
        });
        if (granted.some((g) => g.qos === 128)) {
          throw new BrokerError("BROKER_DENIED", `subscription to ${filter} refused`);
        }
        this.#qos.set(filter, options.qos ?? 0);
      } catch (error) {
        this.#handlers.delete(filter);
        throw error;
      }
    }
    handlers.add(handler);
    return async () => {
      const set = this.#handlers.get(filter);
      if (!set?.delete(handler) || set.size > 0) return;
      this.#handlers.delete(filter);
      this.#qos.delete(filter);
      if (this.#mqtt.connected) await this.#mqtt.unsubscribeAsync(filter);
    };
  }

  /** Publishes a message with the Remix header. */
  publishMessage(topic: string, message: OutgoingMessage, options: PublishOptions = {}): Promise<void> {
    return publishMessage(this, topic, message, { ...options, json: this.#options.json });
  }

  subscribeMessages(
    filter: string,
    handler: (topic: string, message: RemixMessage, info: { retain: boolean }) => void,
    options: SubscribeMessagesOptions = {},
  ): Promise<Unsubscribe> {
    return subscribeMessages(this, filter, handler, {
      json: this.#options.json,
      logger: this.#options.logger,
      ...options,
    });
  }

  /** Sends a request and waits for its reply (needs the `inbox` option). */
  request(topic: string, message: OutgoingMessage, options?: RequestOptions): Promise<RemixMessage> {
    if (!this.#options.inbox) throw new BrokerError("BROKER_BAD_TOPIC", "request() needs the inbox option");
    this.#requester ??= new Requester(this, `${this.#options.inbox}/${this.clientId}`, {
      json: this.#options.json,
      logger: this.#options.logger,
    });
    return this.#requester.request(topic, message, options);
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#retryTimer);
    await this.#requester?.close();
    await this.#mqtt.endAsync();
  }
}

function credentials(username: string | undefined, token: string | undefined): Partial<IClientOptions> {
  if (token === undefined) return {};
  return { username, password: `Bearer ${token}` };
}
