import type { Logger } from "pino";
import type { MessageBus, PublishOptions, SubscribeOptions, Unsubscribe } from "./bus.js";
import {
  decodeMessage,
  encodeMessage,
  type JsonBodyCodec,
  type RemixMessage,
  taggedJson,
} from "./message.js";

/** A message to send: the sender and route are filled in from the bus. */
export type OutgoingMessage = Omit<RemixMessage, "sender" | "route"> & {
  sender?: string;
  route?: readonly string[];
};

export interface TypedOptions {
  /** How json bodies are written (default plain JSON; pass `@amp/codec`'s tagged JSON). */
  json?: JsonBodyCodec;
}

/** Publishes a message with the Remix header; this endpoint's id joins the route. */
export function publishMessage(
  bus: MessageBus,
  topic: string,
  message: OutgoingMessage,
  options: PublishOptions & TypedOptions = {},
): Promise<void> {
  const route = message.route ?? [];
  const full = {
    ...message,
    sender: message.sender ?? bus.clientId,
    route: route.includes(bus.clientId) ? route : [...route, bus.clientId],
  } as RemixMessage;
  return bus.publish(topic, encodeMessage(full, options.json ?? taggedJson), options);
}

export interface SubscribeMessagesOptions extends SubscribeOptions, TypedOptions {
  /** Where undecodable payloads are reported (they are dropped). */
  logger?: Logger;
  /** Keep messages whose route already holds this endpoint (default false: echoes are dropped). */
  keepEchoes?: boolean;
}

/** Subscribes and decodes each payload; bad payloads and echoes are dropped. */
export function subscribeMessages(
  bus: MessageBus,
  filter: string,
  handler: (topic: string, message: RemixMessage, info: { retain: boolean }) => void,
  options: SubscribeMessagesOptions = {},
): Promise<Unsubscribe> {
  const json = options.json ?? taggedJson;
  return bus.subscribe(
    filter,
    (topic, payload, info) => {
      let message: RemixMessage;
      try {
        message = decodeMessage(payload, json);
      } catch (error) {
        options.logger?.warn({ topic, err: (error as Error).message }, "dropping undecodable message");
        return;
      }
      if (!options.keepEchoes && message.route.includes(bus.clientId)) return;
      handler(topic, message, info);
    },
    options,
  );
}
