import type { AmpUser } from "@amp/auth";
import type { Logger } from "pino";
import { z } from "zod";
import { errorMessage } from "../errors.js";
import type { RelayEnvelope } from "./relay-messages.js";

/** A question every node may be asked: its name on the wire and the shape of each answered item. */
export interface RelayTopic<T> {
  /** Short and enum-like (`sessions`, `broker-clients`; `TopicName` in relay-messages). */
  readonly name: string;
  /** Each item of an answer is checked against it before it is merged. */
  readonly items: z.ZodType<T>;
}

/** What the other nodes answered, merged; `unanswered` nodes were silent past the bound. */
export interface OtherNodes<T> {
  items: T[];
  unanswered: number;
}

/** How a node answers a topic for a user another node verified. */
export type TopicAnswer<T> = (user: AmpUser) => Promise<readonly T[]>;

type Ask = Extract<RelayEnvelope, { k: "ask" }>;
type Told = Extract<RelayEnvelope, { k: "told" }>;

/** An `ask` waiting for the other nodes' `told` answers. */
interface PendingAsk {
  topic: string;
  answers: Map<string, unknown[]>;
  /** How many other nodes heard the question, once PUBLISH said so. */
  expected: number | undefined;
  done(): void;
}

export interface AskAllOptions {
  nodeId: string;
  /** How long `ask` waits for the answers. */
  timeoutMs: number;
  /** PUBLISHes on the channel every node hears: how many nodes heard it (this one included). */
  broadcast(envelope: Ask): Promise<number>;
  /** PUBLISHes on `node`'s own channel. */
  send(node: string, envelope: Told): Promise<number>;
  logger: Logger;
}

/**
 * "Ask every other node a named question" on the relay's channels: `ask` goes out once on the
 * broadcast channel with the user the asking node verified; each node that answers the topic runs
 * its answer for that user (its own rule: nothing the asker says decides) and sends `told` back on
 * the asker's channel. PUBLISH tells how many nodes heard the question: after `timeoutMs` the
 * answers so far are merged and the rest counted unanswered. A node that does not know a topic
 * stays silent (a node of an older version, say).
 */
export class AskAll {
  /** The topics this node asks or answers: a `told` about any other is dropped. */
  readonly #topics = new Map<string, RelayTopic<unknown>>();
  readonly #answers = new Map<string, TopicAnswer<unknown>>();
  readonly #pending = new Map<string, PendingAsk>();
  readonly #options: AskAllOptions;
  #seq = 0;

  constructor(options: AskAllOptions) {
    this.#options = options;
  }

  /** Answers `topic` with `answer` from now on; the returned function stops it. */
  answer<T>(topic: RelayTopic<T>, answer: TopicAnswer<T>): () => void {
    this.#topics.set(topic.name, topic);
    this.#answers.set(topic.name, answer);
    return () => {
      if (this.#answers.get(topic.name) === answer) this.#answers.delete(topic.name);
    };
  }

  /** Every other node's answer to `topic` for `user`, within `timeoutMs`. */
  async ask<T>(topic: RelayTopic<T>, user: AmpUser): Promise<OtherNodes<T>> {
    this.#topics.set(topic.name, topic);
    const id = String(++this.#seq);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const pending: PendingAsk = {
      topic: topic.name,
      answers: new Map(),
      expected: undefined,
      done: () => undefined,
    };
    const finished = new Promise<void>((resolve) => {
      pending.done = resolve;
      timer = setTimeout(resolve, this.#options.timeoutMs);
    });
    this.#pending.set(id, pending);
    try {
      const { nodeId } = this.#options;
      const heard = await this.#options.broadcast({ k: "ask", id, from: nodeId, topic: topic.name, user });
      // This node hears its own broadcast and ignores it: the others are the rest.
      pending.expected = Math.max(0, heard - 1);
      if (pending.answers.size >= pending.expected) pending.done();
      await finished;
    } finally {
      clearTimeout(timer);
      this.#pending.delete(id);
    }
    return {
      // Checked against `topic.items` when they arrived (`told`).
      items: [...pending.answers.values()].flat() as T[],
      unanswered: Math.max(0, (pending.expected ?? 0) - pending.answers.size),
    };
  }

  /** Another node's question: answered when this node answers its topic, else left unanswered. */
  async asked(ask: Ask): Promise<void> {
    const answer = this.#answers.get(ask.topic);
    if (ask.from === this.#options.nodeId || answer === undefined) return;
    const items = await answer(ask.user).catch((e) => {
      // Unanswered, the asker counts this node as silent; a rejection here would end the process.
      this.#options.logger.warn({ err: errorMessage(e), topic: ask.topic }, "relayed question failed");
      return undefined;
    });
    if (items === undefined) return;
    const told: Told = {
      k: "told",
      id: ask.id,
      node: this.#options.nodeId,
      topic: ask.topic,
      items: [...items],
    };
    await this.#options.send(ask.from, told).catch(() => undefined);
  }

  /**
   * An answer to one of this node's questions. Throws when its topic is not one this node knows
   * or its items are not that topic's (the relay drops it as a bad message); one that comes too
   * late is ignored.
   */
  told(told: Told): void {
    const topic = this.#topics.get(told.topic);
    if (topic === undefined) throw new Error(`an answer about the unknown topic ${told.topic}`);
    const items = z.array(topic.items).safeParse(told.items);
    if (!items.success) throw new Error(`${told.topic}: ${items.error.issues[0]?.message ?? "invalid"}`);
    const pending = this.#pending.get(told.id);
    if (pending === undefined) return; // finished already
    if (pending.topic !== told.topic)
      throw new Error(`an answer about ${told.topic} to a ${pending.topic} question`);
    pending.answers.set(told.node, items.data);
    if (pending.expected !== undefined && pending.answers.size >= pending.expected) pending.done();
  }

  /** The questions waiting end now with the answers so far. */
  close(): void {
    for (const pending of this.#pending.values()) pending.done();
  }
}
