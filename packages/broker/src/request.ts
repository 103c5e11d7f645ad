import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { MessageBus, Unsubscribe } from "./bus.js";
import { BrokerError } from "./errors.js";
import type { RemixMessage } from "./message.js";
import { type OutgoingMessage, publishMessage, subscribeMessages, type TypedOptions } from "./typed.js";

export interface RequestOptions {
  /** Give up after this many ms (`BROKER_TIMEOUT`). Default 30 s. */
  timeoutMs?: number;
  /** Abort to cancel (`BROKER_CANCELLED`). */
  signal?: AbortSignal;
  qos?: 0 | 1 | 2;
  /** Use this correlation id (e.g. to name the request in a later cancel message); default a random UUID. */
  correlationId?: string;
}

interface Pending {
  resolve(message: RemixMessage): void;
  reject(error: Error): void;
}

/**
 * Request/response over publish/subscribe: each request carries a reply topic (this endpoint's
 * inbox) and a correlation id in its header; the answer comes back to the inbox with that id.
 * One inbox subscription serves every request.
 */
export class Requester {
  readonly #bus: MessageBus;
  readonly #inbox: string;
  readonly #options: TypedOptions & { logger?: Logger };
  readonly #pending = new Map<string, Pending>();
  #subscription: Promise<Unsubscribe> | undefined;

  /** `inbox` must be a topic this endpoint may subscribe to and responders may publish to. */
  constructor(bus: MessageBus, inbox: string, options: TypedOptions & { logger?: Logger } = {}) {
    this.#bus = bus;
    this.#inbox = inbox;
    this.#options = options;
  }

  async request(
    topic: string,
    message: OutgoingMessage,
    options: RequestOptions = {},
  ): Promise<RemixMessage> {
    options.signal?.throwIfAborted();
    this.#subscription ??= subscribeMessages(
      this.#bus,
      this.#inbox,
      (_topic, reply) => {
        const id = reply.correlationId;
        const pending = id === undefined ? undefined : this.#pending.get(id);
        pending?.resolve(reply);
      },
      { ...this.#options, keepEchoes: true, qos: 1 },
    );
    await this.#subscription;
    const correlationId = options.correlationId ?? randomUUID();
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise<RemixMessage>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        this.#pending.delete(correlationId);
      };
      const onAbort = () => {
        finish();
        reject(new BrokerError("BROKER_CANCELLED", `request to ${topic} cancelled`));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new BrokerError("BROKER_TIMEOUT", `no reply from ${topic} within ${timeoutMs} ms`));
      }, timeoutMs);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(correlationId, {
        resolve: (reply) => {
          finish();
          resolve(reply);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      });
      publishMessage(
        this.#bus,
        topic,
        { ...message, replyTo: this.#inbox, correlationId } as OutgoingMessage,
        { ...this.#options, qos: options.qos ?? 1 },
      ).catch((error: Error) => this.#pending.get(correlationId)?.reject(error));
    });
  }

  /** Fails every outstanding request and drops the inbox subscription. */
  async close(): Promise<void> {
    for (const pending of this.#pending.values()) {
      pending.reject(new BrokerError("BROKER_CANCELLED", "requester closed"));
    }
    const subscription = this.#subscription;
    this.#subscription = undefined;
    if (subscription) await (await subscription)();
  }
}

/** Answers requests on `filter`: the handler's message goes to the request's reply topic. */
export function serveRequests(
  bus: MessageBus,
  filter: string,
  handler: (request: RemixMessage, topic: string) => Promise<OutgoingMessage>,
  options: TypedOptions & { logger?: Logger; qos?: 0 | 1 | 2 } = {},
): Promise<Unsubscribe> {
  return subscribeMessages(
    bus,
    filter,
    (topic, request) => {
      const { replyTo, correlationId } = request;
      if (replyTo === undefined || correlationId === undefined) {
        options.logger?.warn({ topic }, "request without reply topic or correlation id; dropped");
        return;
      }
      handler(request, topic)
        .then((reply) =>
          publishMessage(bus, replyTo, { ...reply, correlationId } as OutgoingMessage, options),
        )
        .catch((error: Error) =>
          options.logger?.error({ topic, err: error.message }, "request handler failed"),
        );
    },
    // a server component may well ask itself (same bus): requests are never echoes
    { ...options, qos: options.qos ?? 1, keepEchoes: true },
  );
}
