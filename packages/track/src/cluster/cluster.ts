import { connectRedis } from "@amp/auth/redis";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { RedisSessionDirectory } from "./redis-directory.js";
import { SessionRelay } from "./relay.js";
import { SharedOwners } from "./shared-owners.js";

export interface TrackClusterOptions {
  /** This node's id (`--node-id`): its directory entries and relay channel. */
  nodeId: string;
  logger: Logger;
  /** Key and channel prefix. Default `amp:track:`. */
  prefix?: string;
  /** See `RedisDirectoryOptions`. */
  heartbeatTtlMs?: number;
  sessionTtlMs?: number;
  /** See `SessionRelayOptions.timeoutMs`. */
  relayTimeoutMs?: number;
}

/**
 * Sessions across nodes on one Redis: the shared session directory, the relay and the broker's
 * owner registries, on two connections of their own (a subscriber connection can do nothing
 * else). Give `directory` to the `SessionManager`, `relay` to the `TrackProtocol`, and share the
 * broker's `vmOwners` and `sessionOwners` through `owners`.
 */
export class TrackCluster {
  readonly #connections: Redis[];

  private constructor(
    readonly directory: RedisSessionDirectory,
    readonly relay: SessionRelay,
    readonly owners: SharedOwners,
    connections: Redis[],
  ) {
    this.#connections = connections;
  }

  /** Connects (a Redis that is unreachable or refuses the credentials fails here), then beats. */
  static async connect(url: string, options: TrackClusterOptions): Promise<TrackCluster> {
    const redis = await connectRedis(url);
    const subscriber = await connectRedis(url).catch((e) => {
      redis.disconnect();
      throw e;
    });
    const prefix = options.prefix ?? "amp:track:";
    const directory = await RedisSessionDirectory.start(redis, {
      nodeId: options.nodeId,
      prefix,
      logger: options.logger,
      ...(options.heartbeatTtlMs !== undefined ? { heartbeatTtlMs: options.heartbeatTtlMs } : {}),
      ...(options.sessionTtlMs !== undefined ? { sessionTtlMs: options.sessionTtlMs } : {}),
    });
    const relay = await SessionRelay.start({
      directory,
      redis,
      subscriber,
      prefix,
      logger: options.logger,
      ...(options.relayTimeoutMs !== undefined ? { timeoutMs: options.relayTimeoutMs } : {}),
    });
    const owners = new SharedOwners(redis, { nodeId: options.nodeId, prefix, logger: options.logger });
    subscriber.on("message", (channel: string, text: string) => {
      if (channel === owners.channel) owners.receive(text);
    });
    await subscriber.subscribe(owners.channel);
    return new TrackCluster(directory, relay, owners, [redis, subscriber]);
  }

  /** After the session manager closed (its sessions released their entries). */
  async close(): Promise<void> {
    await this.relay.close();
    await this.directory.close();
    for (const c of this.#connections) await c.quit().catch(() => c.disconnect());
  }
}
