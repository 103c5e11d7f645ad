import { randomUUID } from "node:crypto";
import type { AmpUser } from "@amp/auth";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { errorMessage, NO_SUCH_SESSION, TrackError } from "../errors.js";
import type { TrackConnection } from "../protocol/context.js";
import type { TrackResponse } from "../protocol/response.js";
import type { SessionManager } from "../session/manager.js";
import type { SessionSink } from "../session/session.js";
import { AskAll, type OtherNodes, type RelayTopic, type TopicAnswer } from "./ask-all.js";
import type { SessionDirectory } from "./directory.js";
import { type NodeSessionInfo, NodeSessions } from "./node-sessions.js";
import { ListedSession, RelayEnvelope } from "./relay-messages.js";

export interface SessionRelayOptions {
  directory: SessionDirectory;
  /** Commands and PUBLISH. */
  redis: Redis;
  /** A second connection, in subscriber mode: this node's relay channel. */
  subscriber: Redis;
  /** Key and channel prefix. Default `amp:track:`. */
  prefix?: string;
  /** How long a relayed message may wait for its answer. Default 60 s (past a VM's hard timeout). */
  timeoutMs?: number;
  /** Largest relay message read from the channel. Default 16 MiB. */
  maxBytes?: number;
  /** How long `askAll` (and so `listSessions`) waits for the other nodes' answers. Default 2 s. */
  askTimeoutMs?: number;
  logger: Logger;
}

/** What relayed messages run on: the node's protocol (`TrackProtocol`). */
export interface RelayTarget {
  readonly sessions: SessionManager;
  handle(raw: unknown, conn: TrackConnection): Promise<TrackResponse>;
}

/** Session owners the relay remembers. */
const MAX_REMEMBERED = 10_000;

/** A connection of another node whose client drives sessions here: their pushes go back to it. */
interface RemoteConnection {
  sink: SessionSink;
  sessions: Set<string>;
}

interface Pending {
  resolve(answer: Record<string, unknown>): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Every node's sessions a user may see (`NodeSessions.list` on each). */
const SESSIONS: RelayTopic<NodeSessionInfo> = { name: "sessions", items: ListedSession };

/** Every other node's sessions a user may see; `unanswered` nodes were silent past the list timeout. */
export interface OtherNodesSessions {
  sessions: NodeSessionInfo[];
  unanswered: number;
}

/**
 * Relays a client's message for a session held by another node to that node, and its answer
 * back, over Redis pub/sub: each node listens on `<prefix>relay:<node>`. The owner runs the
 * message as a local one, as the user the receiving node verified. A WebSocket's session is
 * attached on the owner to a sink that publishes its pushes to the client's node.
 *
 * A node that is gone has no subscriber, so PUBLISH reaches nobody: the session is dropped from
 * the directory and answered "no such session" at once, before its heartbeat expires.
 *
 * The sessions admin routes go through it too: `endSession` asks the session's node to end it,
 * and `listSessions` asks every node at once on `<prefix>nodes` (`askAll`, which other parts of
 * the server use for their own questions); each node applies the rule of `NodeSessions` to the
 * user the asking node verified.
 */
export class SessionRelay {
  readonly nodeId: string;
  readonly timeoutMs: number;
  readonly #directory: SessionDirectory;
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #maxBytes: number;
  readonly #log: Logger;
  readonly #pending = new Map<string, Pending>();
  readonly #questions: AskAll;
  /** Our WebSockets that drive sessions elsewhere: id → their sink and the nodes holding them. */
  readonly #local = new Map<string, { sink: SessionSink; owners: Set<string> }>();
  readonly #localIds = new WeakMap<TrackConnection, string>();
  /** Other nodes' WebSockets driving sessions here, by `<node>\0<connection>`. */
  readonly #remote = new Map<string, RemoteConnection>();
  /** Owners of sessions recently relayed from here (bounded, oldest first out). */
  readonly #owners = new Map<string, string>();
  #target: RelayTarget | undefined;
  /** The target's sessions under the admin routes' rule, once serving: relayed ends and lists use it. */
  #nodeSessions: NodeSessions | undefined;
  #seq = 0;

  private constructor(options: SessionRelayOptions) {
    this.#directory = options.directory;
    this.nodeId = options.directory.nodeId;
    this.#redis = options.redis;
    this.#subscriber = options.subscriber;
    this.#prefix = options.prefix ?? "amp:track:";
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.#maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
    this.#log = options.logger.child({ component: "session-relay" });
    this.#questions = new AskAll({
      nodeId: this.nodeId,
      timeoutMs: options.askTimeoutMs ?? 2000,
      broadcast: (envelope) => this.publish(this.broadcastChannel(), envelope),
      send: (node, envelope) => this.send(node, envelope),
      logger: this.#log,
    });
  }

  /** Subscribes to this node's channel and the broadcast one; relayed requests wait for `serve`. */
  static async start(options: SessionRelayOptions): Promise<SessionRelay> {
    const relay = new SessionRelay(options);
    const own = relay.channel(relay.nodeId);
    const all = relay.broadcastChannel();
    relay.#subscriber.on("message", (channel: string, text: string) => {
      if (channel === own) relay.receive(text, false);
      else if (channel === all) relay.receive(text, true);
    });
    await relay.#subscriber.subscribe(own, all);
    return relay;
  }

  /** Runs the messages other nodes relay here on `target`, and answers their `listSessions`. */
  serve(target: RelayTarget): void {
    this.#target = target;
    const sessions = new NodeSessions(target.sessions);
    this.#nodeSessions = sessions;
    this.answerAll(SESSIONS, (user) => sessions.list(user));
  }

  /**
   * Every other node's answer to `topic` for `user` (verified here), asked at once on the
   * broadcast channel. PUBLISH tells how many nodes heard it: after the ask timeout (2 s) the
   * answers so far are returned, with how many nodes stayed silent.
   */
  askAll<T>(topic: RelayTopic<T>, user: AmpUser): Promise<OtherNodes<T>> {
    return this.#questions.ask(topic, user);
  }

  /**
   * Answers other nodes' `askAll` of `topic` with `answer`, run for the user the asking node
   * verified: `answer` applies its own rule to that user. The returned function stops answering.
   */
  answerAll<T>(topic: RelayTopic<T>, answer: TopicAnswer<T>): () => void {
    return this.#questions.answer(topic, answer);
  }

  /**
   * The answer of the node holding `session` to `raw`; undefined when no other node holds it
   * (the caller answers it here). A session whose node is gone is "no such session".
   */
  async route(session: string, raw: unknown, conn: TrackConnection): Promise<TrackResponse | undefined> {
    // A session never moves, so its owner is remembered: the hop is then one PUBLISH each way
    // (a gone owner is still seen at once: its PUBLISH reaches nobody).
    let owner = this.#owners.get(session);
    if (owner === undefined) {
      const where = await this.#directory.lookup(session);
      if (where === undefined || where.node === this.nodeId) return undefined;
      if (!where.alive) throw nodeGone(where.node);
      owner = where.node;
      this.remember(session, owner);
    }
    try {
      const response = await this.forward(owner, session, raw, conn);
      const code = response.errors?.code;
      if (code === "Track-noSession" || code === "Track-sessionTimedOut") this.#owners.delete(session);
      return response;
    } catch (e) {
      this.#owners.delete(session);
      throw e;
    }
  }

  /**
   * Ends `session` on the other node holding it, as `user` (verified here): that node applies
   * `NodeSessions.end`. False when no other node holds it or `user` may not end it; a node that is
   * gone is "no such session", one that does not answer `Track-relayTimeout`.
   */
  async endSession(user: AmpUser, session: string): Promise<boolean> {
    const where = await this.#directory.lookup(session);
    if (where === undefined || where.node === this.nodeId) return false;
    if (!where.alive) throw nodeGone(where.node);
    this.#owners.delete(session);
    const answer = await this.ask(where.node, session, (id) => ({
      k: "end",
      id,
      from: this.nodeId,
      user,
      session,
    }));
    return answer.ended === true;
  }

  /** The sessions `user` may see on every other node (`NodeSessions.list` there): `askAll`. */
  async listSessions(user: AmpUser): Promise<OtherNodesSessions> {
    const { items, unanswered } = await this.askAll(SESSIONS, user);
    return { sessions: items, unanswered };
  }

  private remember(session: string, owner: string): void {
    if (this.#owners.size >= MAX_REMEMBERED) {
      const oldest = this.#owners.keys().next().value;
      if (oldest !== undefined) this.#owners.delete(oldest);
    }
    this.#owners.set(session, owner);
  }

  /** A connection closed: the sessions it drove on other nodes start their disconnect grace there. */
  disconnect(conn: TrackConnection): void {
    const id = this.#localIds.get(conn);
    const local = id === undefined ? undefined : this.#local.get(id);
    if (id === undefined || local === undefined) return;
    this.#local.delete(id);
    for (const owner of local.owners) {
      this.send(owner, { k: "bye", from: this.nodeId, c: id }).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new TrackError("Track-relayTimeout", "the node is stopping"));
      this.#pending.delete(id);
    }
    this.#questions.close();
    await this.#subscriber
      .unsubscribe(this.channel(this.nodeId), this.broadcastChannel())
      .catch(() => undefined);
  }

  private async forward(
    owner: string,
    session: string,
    raw: unknown,
    conn: TrackConnection,
  ): Promise<TrackResponse> {
    const c = conn.sink ? this.localConnection(conn, owner) : undefined;
    const user: AmpUser = conn.user;
    const answer = await this.ask(owner, session, (id) => ({
      k: "req",
      id,
      from: this.nodeId,
      ...(c !== undefined ? { c } : {}),
      user,
      token: conn.token,
      app: conn.app,
      m: raw,
    }));
    return answer as unknown as TrackResponse;
  }

  /** Sends the request `envelope(id)` about `session` to `owner` and waits for its `res`. */
  private async ask(
    owner: string,
    session: string,
    envelope: (id: string) => RelayEnvelope,
  ): Promise<Record<string, unknown>> {
    const id = String(++this.#seq);
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(
          new TrackError("Track-relayTimeout", `node ${owner} did not answer within ${this.timeoutMs} ms`),
        );
      }, this.timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
    });
    let receivers: number;
    try {
      receivers = await this.send(owner, envelope(id));
    } catch (e) {
      this.settle(id, answer);
      throw e;
    }
    if (receivers === 0) {
      // Nobody listens on the owner's channel: it was killed (its Redis connection closed with it).
      this.settle(id, answer);
      await this.#directory.drop(session, owner).catch(() => undefined);
      throw nodeGone(owner);
    }
    return answer;
  }

  /** Forgets a request that was never delivered. */
  private settle(id: string, answer: Promise<unknown>): void {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    if (pending) clearTimeout(pending.timer);
    answer.catch(() => undefined);
  }

  /** The id of a local WebSocket driving a session on `owner`; pushes from there come back with it. */
  private localConnection(conn: TrackConnection, owner: string): string {
    let id = this.#localIds.get(conn);
    if (id === undefined) {
      id = randomUUID();
      this.#localIds.set(conn, id);
    }
    let local = this.#local.get(id);
    if (local === undefined && conn.sink) {
      local = { sink: conn.sink, owners: new Set() };
      this.#local.set(id, local);
    }
    local?.owners.add(owner);
    return id;
  }

  /** A message on this node's channel, or on the broadcast one (where only `ask` is taken). */
  private receive(text: string, broadcast: boolean): void {
    if (text.length > this.#maxBytes) {
      this.#log.warn({ bytes: text.length }, "relay message too large; dropped");
      return;
    }
    let envelope: RelayEnvelope;
    try {
      const parsed = RelayEnvelope.safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? "invalid");
      if (broadcast !== (parsed.data.k === "ask")) throw new Error(`${parsed.data.k} on the wrong channel`);
      envelope = parsed.data;
      // An answer's items are checked against its topic here, so a bad one is dropped like a bad envelope.
      if (envelope.k === "told") {
        this.#questions.told(envelope);
        return;
      }
    } catch (e) {
      this.#log.warn({ err: errorMessage(e) }, "bad relay message; dropped");
      return;
    }
    switch (envelope.k) {
      case "res": {
        const pending = this.#pending.get(envelope.id);
        if (!pending) return; // timed out already
        this.#pending.delete(envelope.id);
        clearTimeout(pending.timer);
        pending.resolve(envelope.r);
        return;
      }
      case "push":
        this.#local.get(envelope.c)?.sink.send(envelope.r as unknown as TrackResponse);
        return;
      case "bye":
        this.bye(`${envelope.from}\0${envelope.c}`);
        return;
      case "req":
        void this.answer(envelope);
        return;
      case "end":
        void this.answerEnd(envelope);
        return;
      case "ask":
        void this.#questions.asked(envelope);
    }
  }

  /** Ends a session here for a user another node verified: the same rule as a local DELETE. */
  private async answerEnd(request: Extract<RelayEnvelope, { k: "end" }>): Promise<void> {
    const sessions = this.#nodeSessions;
    if (!sessions) return; // not serving yet: the sender times out
    const ended = await sessions.end(request.user, request.session).catch((e) => {
      this.#log.warn({ err: errorMessage(e), session: request.session }, "relayed end failed");
      return false;
    });
    await this.send(request.from, { k: "res", id: request.id, r: { ended } }).catch(() => undefined);
  }

  /** Runs a relayed message here, as a message of the user the sending node verified. */
  private async answer(request: Extract<RelayEnvelope, { k: "req" }>): Promise<void> {
    const target = this.#target;
    if (!target) return; // not serving yet: the sender times out
    const remote = request.c === undefined ? undefined : this.remoteConnection(request.from, request.c);
    const conn: TrackConnection = {
      user: request.user,
      token: request.token,
      app: request.app,
      relayed: true,
      ...(remote ? { sink: remote.sink, sessions: remote.sessions } : {}),
    };
    const response = await target.handle(request.m, conn);
    const r = response as unknown as Record<string, unknown>;
    // Undelivered, the sender times out: nothing else to do here.
    await this.send(request.from, { k: "res", id: request.id, r }).catch(() => undefined);
  }

  /** The sink standing for connection `c` of node `from`: one per connection, so it attaches once. */
  private remoteConnection(from: string, c: string): RemoteConnection {
    const key = `${from}\0${c}`;
    let remote = this.#remote.get(key);
    if (remote === undefined) {
      const sink: SessionSink = {
        send: (r) => {
          this.send(from, { k: "push", c, r: r as unknown as Record<string, unknown> }).then(
            (n) => n === 0 && this.bye(key), // the client's node is gone
            () => undefined,
          );
        },
      };
      remote = { sink, sessions: new Set() };
      this.#remote.set(key, remote);
    }
    return remote;
  }

  private bye(key: string): void {
    const remote = this.#remote.get(key);
    if (!remote) return;
    this.#remote.delete(key);
    const sessions = this.#target?.sessions;
    for (const id of remote.sessions) {
      const session = sessions?.find(id);
      if (session && session.sink === remote.sink) sessions?.detach(session);
    }
  }

  private send(node: string, envelope: RelayEnvelope): Promise<number> {
    return this.publish(this.channel(node), envelope);
  }

  /** PUBLISHes `envelope` on `channel`: how many nodes heard it. */
  private async publish(channel: string, envelope: RelayEnvelope): Promise<number> {
    try {
      return await this.#redis.publish(channel, JSON.stringify(envelope));
    } catch (e) {
      this.#log.warn({ err: errorMessage(e), channel }, "relay publish failed");
      throw new TrackError("Track-relayTimeout", `could not publish on ${channel}: ${errorMessage(e)}`);
    }
  }

  private channel(node: string): string {
    return `${this.#prefix}relay:${node}`;
  }

  /** Every node listens here too: questions for all of them (`ask`). */
  private broadcastChannel(): string {
    return `${this.#prefix}nodes`;
  }
}

function nodeGone(node: string): TrackError {
  return new TrackError("Track-noSession", NO_SUCH_SESSION, {
    reason: `the session's node ${node} is gone`,
  });
}
