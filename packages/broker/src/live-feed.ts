import type { Broker } from "./broker.js";
import { BROKER_CLIENTS_TOPIC, LIVE_PREFIX } from "./live-topics.js";
import { topicMatches } from "./topic-match.js";

/**
 * The server's side of the `$amp/…` topics: publishes a JSON event only while a client of this
 * process subscribes to a filter that matches it, so a server nobody watches pays nothing (and a
 * clustered broker sends nothing through Redis). Also publishes the broker's own client changes
 * on `$amp/broker/clients` as `{type, client}`, the client with its `node` as
 * `GET /x/broker/clients` lists it.
 */
export class LiveFeed {
  /** Client id → its `$amp/…` filters. Few: only consoles subscribe there. */
  readonly #filters = new Map<string, string[]>();
  readonly #broker: Pick<Broker, "publish" | "onClientChange">;
  readonly #stop: () => void;

  /** `node`: this node's id (default `local`, a single node's name, as its sessions have it). */
  constructor(
    broker: Pick<Broker, "publish" | "onClientChange">,
    { node = "local" }: { node?: string } = {},
  ) {
    this.#broker = broker;
    this.#stop = broker.onClientChange((change, client) => {
      const live =
        change === "disconnected" ? [] : client.subscriptions.filter((f) => f.startsWith(LIVE_PREFIX));
      if (live.length > 0) this.#filters.set(client.clientId, live);
      else this.#filters.delete(client.clientId);
      this.publish(BROKER_CLIENTS_TOPIC, { type: change, client: { ...client, node } });
    });
  }

  /** Whether any client of this process subscribes to `$amp/…` at all (a cheap first check). */
  get watchedAtAll(): boolean {
    return this.#filters.size > 0;
  }

  /** Whether a client of this process would receive a message on `topic`. */
  watched(topic: string): boolean {
    for (const filters of this.#filters.values())
      if (filters.some((filter) => topicMatches(filter, topic))) return true;
    return false;
  }

  /** Publishes `event` as JSON on `topic` when someone watches it; never throws. */
  publish(topic: string, event: object): void {
    if (!this.watched(topic)) return;
    // Best effort, and unlogged: a log line about a failed publish would feed the logs' topic in a loop
    // (it fails only while the broker closes).
    this.#broker.publish(topic, Buffer.from(JSON.stringify(event))).catch(() => undefined);
  }

  close(): void {
    this.#stop();
    this.#filters.clear();
  }
}
