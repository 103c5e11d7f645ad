import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { errorMessage } from "../errors.js";
import type { SessionDirectory, SessionWhereabouts } from "./directory.js";

export interface RedisDirectoryOptions {
  /** This node's id (`--node-id`). */
  nodeId: string;
  /** Key prefix. Default `amp:track:`. */
  prefix?: string;
  /**
   * Lifetime of this node's heartbeat key, refreshed every third of it. A node killed without a
   * goodbye is seen dead at most this long after its last beat. Default 3000 ms.
   */
  heartbeatTtlMs?: number;
  /** Lifetime of a session's entry, refreshed every third of it while the session lives. Default 60 s. */
  sessionTtlMs?: number;
  logger: Logger;
}

/** A session id the directory stores: what the protocol passes on (at most 200 characters). */
const MAX_ID = 200;

// The owner, and whether its heartbeat is there; a dead owner's entry is dropped in the same step.
const LOOKUP = `
local node = redis.call('GET', KEYS[1])
if not node then return false end
if redis.call('EXISTS', ARGV[1] .. node) == 1 then return {node, 1} end
redis.call('DEL', KEYS[1])
return {node, 0}
`;

// Deletes the entry only while it names the node: a late drop never removes another node's entry.
const DROP = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * The session directory on Redis, shared by every node: `<prefix>session:<id>` → node id with a
 * TTL this node refreshes while the session lives, and `<prefix>node:<id>` this node's heartbeat.
 * A lookup finding an entry whose node has no heartbeat drops it: that node was killed.
 */
export class RedisSessionDirectory implements SessionDirectory {
  readonly nodeId: string;
  readonly heartbeatTtlMs: number;
  readonly sessionTtlMs: number;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #mine = new Set<string>();
  readonly #log: Logger;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastRefresh = 0;

  private constructor(redis: Redis, options: RedisDirectoryOptions) {
    this.#redis = redis;
    this.nodeId = options.nodeId;
    this.#prefix = options.prefix ?? "amp:track:";
    this.heartbeatTtlMs = options.heartbeatTtlMs ?? 3000;
    this.sessionTtlMs = options.sessionTtlMs ?? 60_000;
    this.#log = options.logger.child({ component: "session-directory" });
  }

  /** Beats once (so this node is alive before it claims anything), then every third of the TTL. */
  static async start(redis: Redis, options: RedisDirectoryOptions): Promise<RedisSessionDirectory> {
    const directory = new RedisSessionDirectory(redis, options);
    await directory.beat();
    directory.#timer = setInterval(() => {
      directory.tick().catch((e) => directory.#log.warn({ err: errorMessage(e) }, "heartbeat failed"));
    }, directory.heartbeatTtlMs / 3);
    directory.#timer.unref();
    return directory;
  }

  async claim(session: string): Promise<void> {
    this.#mine.add(session);
    await this.#redis.set(this.#sessionKey(session), this.nodeId, "PX", this.sessionTtlMs);
  }

  async release(session: string): Promise<void> {
    if (!this.#mine.delete(session)) return;
    await this.drop(session, this.nodeId);
  }

  async lookup(session: string): Promise<SessionWhereabouts | undefined> {
    if (session.length > MAX_ID) return undefined;
    if (this.#mine.has(session)) return { node: this.nodeId, alive: true };
    const found = (await this.#redis.eval(LOOKUP, 1, this.#sessionKey(session), `${this.#prefix}node:`)) as
      | [string, number]
      | null;
    return found === null ? undefined : { node: found[0], alive: found[1] === 1 };
  }

  async drop(session: string, node: string): Promise<void> {
    if (session.length > MAX_ID) return;
    if (node === this.nodeId) this.#mine.delete(session);
    await this.#redis.eval(DROP, 1, this.#sessionKey(session), node);
  }

  /** Stops beating and removes this node's entries: a node that stops cleanly leaves nothing behind. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    const keys = [...this.#mine].map((s) => this.#sessionKey(s));
    this.#mine.clear();
    await this.#redis.del(this.#nodeKey(), ...keys).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    await this.#redis.set(this.#nodeKey(), String(Date.now()), "PX", this.heartbeatTtlMs);
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastRefresh < this.sessionTtlMs / 3 || this.#mine.size === 0) return this.beat();
    this.#lastRefresh = now;
    const batch = this.#redis.pipeline().set(this.#nodeKey(), String(now), "PX", this.heartbeatTtlMs);
    for (const session of this.#mine) batch.pexpire(this.#sessionKey(session), this.sessionTtlMs);
    await batch.exec();
  }

  #nodeKey(): string {
    return `${this.#prefix}node:${this.nodeId}`;
  }

  #sessionKey(session: string): string {
    return `${this.#prefix}session:${session}`;
  }
}
