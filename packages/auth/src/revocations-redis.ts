import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { connectRedis } from "./redis-state.js";
import { isRevocationId, type RevocationFeed } from "./revocations-feed.js";
import { type RevocationRecord, readRevocation } from "./revocations-record.js";

/** Largest announcement read from the channel. */
const MAX_MESSAGE_BYTES = 4096;

/**
 * Revocations shared through Redis: a sorted set `<prefix>` (id scored by the token's expiry, so
 * expired ones are trimmed by score) for nodes that start later or reconnect, and the channel
 * `<prefix>` on which each revocation is announced. A node applies an announcement as soon as it
 * arrives (milliseconds); after its subscriber reconnects it reads the set again, so nothing
 * announced while it was cut off is missed.
 *
 * An announcement is `{id, exp, from}` plus, when known, `user`, `revokedAt` and `by`: nodes of
 * earlier versions read `id` and `exp` and ignore the rest. The set keeps only id and expiry, so
 * a node that starts later learns who and when from the store, not from Redis.
 */
export class RedisRevocationFeed implements RevocationFeed {
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #prefix: string;
  readonly #self = randomUUID();

  private constructor(redis: Redis, subscriber: Redis, prefix: string) {
    this.#redis = redis;
    this.#subscriber = subscriber;
    this.#prefix = prefix;
  }

  /** Connects twice (commands, and the subscription); fails like `RedisAuthState.connect`. */
  static async connect(url: string, options: { prefix?: string } = {}): Promise<RedisRevocationFeed> {
    const redis = await connectRedis(url);
    const subscriber = await connectRedis(url).catch((e) => {
      redis.disconnect();
      throw e;
    });
    return new RedisRevocationFeed(redis, subscriber, options.prefix ?? "amp:auth:revoked");
  }

  async announce(id: string, revocation: RevocationRecord): Promise<void> {
    const cutoff = Date.now() / 1000 - 60;
    await this.#redis
      .multi()
      .zadd(this.#prefix, revocation.exp, id)
      .zremrangebyscore(this.#prefix, "-inf", cutoff)
      .publish(this.#prefix, JSON.stringify({ ...revocation, id, from: this.#self }))
      .exec();
  }

  async follow(apply: (id: string, revocation: RevocationRecord) => void): Promise<void> {
    this.#subscriber.on("message", (channel: string, text: string) => {
      if (channel !== this.#prefix || text.length > MAX_MESSAGE_BYTES) return;
      let m: { id?: unknown; from?: unknown } | null;
      try {
        m = JSON.parse(text) as typeof m;
      } catch {
        return; // not an announcement: as good as absent
      }
      if (m === null || m.from === this.#self || !isRevocationId(m.id)) return;
      const revocation = readRevocation(m);
      if (revocation) apply(m.id, revocation);
    });
    const load = async () => {
      const entries = await this.#redis.zrangebyscore(
        this.#prefix,
        Date.now() / 1000 - 60,
        "+inf",
        "WITHSCORES",
      );
      for (let i = 0; i + 1 < entries.length; i += 2) {
        const [id, exp] = [entries[i], Number(entries[i + 1])];
        if (isRevocationId(id) && Number.isFinite(exp)) apply(id, { exp });
      }
    };
    await this.#subscriber.subscribe(this.#prefix);
    await load();
    // ioredis subscribes again after a reconnect; what was announced meanwhile is read from the set.
    this.#subscriber.on("ready", () => void load().catch(() => undefined));
  }

  async close(): Promise<void> {
    for (const c of [this.#subscriber, this.#redis]) await c.quit().catch(() => c.disconnect());
  }
}
