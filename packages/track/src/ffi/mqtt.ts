import { publishMessage, type RemixMessage, subscribeMessages, type Unsubscribe } from "@amp/broker";
import { decodeTaggedJson, encodeTaggedJson, isBinary, type MixMap, type MixValue } from "@amp/codec";
import type { FfiContext, FfiHandler } from "@amp/machine";
import type { TrackMqtt } from "../ports.js";
import { numberOf, optionalMap, type SessionLookup, sessionOf, stringArg } from "./args.js";
import { type SessionFfiGroup, scopedFfis } from "./scoped.js";

const tagged = { encode: encodeTaggedJson, decode: (text: string) => decodeTaggedJson(text) };
const QUEUE_LIMIT = 1000;
const MAX_SUBSCRIPTIONS = 100;
const DEFAULT_WAIT_MS = 5000;

type Subscriptions = Map<string, Subscription>;

interface Subscription {
  topic: string;
  queue: MixMap[];
  waiter: ((message: MixMap | null) => void) | undefined;
  unsubscribe: Promise<Unsubscribe>;
}

/**
 * `$mqtt_*` on the in-process broker, with the session user's topic rights (the broker's ACL).
 * Subscriptions belong to the session and end with it. Shapes are in the README.
 */
export function mqttFfis(mqtt: TrackMqtt | undefined, find: SessionLookup): Record<string, FfiHandler> {
  let counter = 0;

  const allowed = async (ctx: FfiContext, action: "publish" | "subscribe", topic: string) => {
    const session = sessionOf(find, ctx);
    if (!mqtt) throw new Error(`${ctx.name}: this server has no MQTT broker`);
    if (!(await mqtt.allows(session.user, action, topic))) {
      throw new Error(`${ctx.name}: ${session.user.id} may not ${action} on ${topic}`);
    }
    return { session, mqtt };
  };
  const subscription = (ctx: FfiContext, args: MixValue[], subs: Subscriptions) => {
    const id = stringArg(args, 0, ctx.name, "subscription");
    const sub = subs.get(id);
    if (!sub) throw new Error(`${ctx.name}: no subscription ${id}`);
    return { id, sub };
  };
  /** The session's subscriptions: a session-scoped group, ended with the session. */
  const subscriptions: SessionFfiGroup<Subscriptions> = {
    name: "mqtt",
    prepare: () => new Map(),
    async dispose(subs) {
      for (const sub of subs.values()) {
        sub.waiter?.(null);
        await (await sub.unsubscribe)();
      }
      subs.clear();
    },
    handlers: {
      $mqtt_subscribe: async (args, ctx, map, session) => {
        const topic = stringArg(args, 0, ctx.name, "topic");
        if (!validTopic(topic)) throw new Error(`${ctx.name}: bad topic ${topic}`);
        const { mqtt: m } = await allowed(ctx, "subscribe", topic);
        if (map.size >= MAX_SUBSCRIPTIONS)
          throw new Error(`${ctx.name}: at most ${MAX_SUBSCRIPTIONS} subscriptions`);
        const id = `sub-${++counter}`;
        const sub: Subscription = {
          topic,
          queue: [],
          waiter: undefined,
          unsubscribe: Promise.resolve(async () => {}),
        };
        sub.unsubscribe = subscribeMessages(
          m.bus,
          topic,
          (t, message, info) => {
            const value = messageValue(t, message, info.retain);
            if (sub.waiter) {
              const w = sub.waiter;
              sub.waiter = undefined;
              w(value);
            } else {
              sub.queue.push(value);
              if (sub.queue.length > QUEUE_LIMIT) sub.queue.shift();
            }
          },
          { json: tagged, keepEchoes: true },
        );
        map.set(id, sub);
        await sub.unsubscribe;
        if (session.destroyed) {
          // The session ended while subscribing: end this one unless its disposal already did.
          if (map.delete(id)) await (await sub.unsubscribe)();
          throw new Error(`${ctx.name}: the calling session is gone`);
        }
        return id;
      },
      $mqtt_subNext: (args, ctx, map) => {
        const { sub } = subscription(ctx, args, map);
        const next = sub.queue.shift();
        if (next) return next;
        if (sub.waiter) throw new Error(`${ctx.name}: another subNext is already waiting`);
        const wait = Math.min(numberOf(optionalMap(args, 1, ctx.name).timeoutMs) ?? DEFAULT_WAIT_MS, 60_000);
        return new Promise<MixValue>((resolve) => {
          const timer = setTimeout(() => {
            sub.waiter = undefined;
            resolve(null);
          }, wait);
          sub.waiter = (m) => {
            clearTimeout(timer);
            resolve(m);
          };
        });
      },
      $mqtt_unsubscribe: async (args, ctx, map) => {
        const { id, sub } = subscription(ctx, args, map);
        map.delete(id);
        sub.waiter?.(null);
        await (await sub.unsubscribe)();
        return null;
      },
    },
  };

  return {
    ...scopedFfis(subscriptions, find).handlers,
    $mqtt_brokerAvailable: () => mqtt !== undefined,
    $mqtt_isLegalSubTopic: async (args, ctx) => {
      const topic = stringArg(args, 0, ctx.name, "topic");
      const session = sessionOf(find, ctx);
      return mqtt !== undefined && validTopic(topic) && (await mqtt.allows(session.user, "subscribe", topic));
    },
    $mqtt_publish: async (args, ctx) => {
      const topic = stringArg(args, 0, ctx.name, "topic");
      if (!validTopic(topic) || /[+#]/.test(topic)) throw new Error(`${ctx.name}: bad topic ${topic}`);
      const options = optionalMap(args, 2, ctx.name);
      const { mqtt: m } = await allowed(ctx, "publish", topic);
      const body = args[1];
      const type = typeof options.type === "string" ? options.type : "msg_hub_publish";
      const message =
        typeof body === "string"
          ? { type, encoding: "text" as const, body }
          : isBinary(body)
            ? { type, encoding: "binary" as const, body }
            : { type, encoding: "json" as const, body: body ?? null };
      const qos = numberOf(options.qos) === 1 ? 1 : 0;
      await publishMessage(m.bus, topic, message, { json: tagged, qos, retain: options.retain === true });
      return null;
    },
    $mqtt_get: async (args, ctx) => {
      const topic = stringArg(args, 0, ctx.name, "topic");
      if (!validTopic(topic) || /[+#]/.test(topic)) throw new Error(`${ctx.name}: bad topic ${topic}`);
      const { mqtt: m } = await allowed(ctx, "subscribe", topic);
      let found: MixMap | null = null;
      const stop = await subscribeMessages(
        m.bus,
        topic,
        (t, message, info) => {
          if (info.retain) found = messageValue(t, message, true);
        },
        { json: tagged, keepEchoes: true },
      );
      await new Promise((r) => setTimeout(r, 20)); // retained messages follow the subscription at once
      await stop();
      return found;
    },
  };
}

function validTopic(topic: string): boolean {
  return topic.length > 0 && topic.length <= 1024 && !topic.includes("\u0000");
}

function messageValue(topic: string, message: RemixMessage, retained: boolean): MixMap {
  return { topic, type: message.type, sender: message.sender, body: message.body, retained };
}
