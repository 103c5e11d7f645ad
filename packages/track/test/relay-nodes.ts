import type { GrooveboxPool } from "@amp/machine";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { RedisSessionDirectory, SessionRelay } from "../src/cluster/index.js";
import type { SessionManagerOptions, TrackResponse } from "../src/index.js";
import { logger, type Stack, startStack } from "./helpers.js";

/** One node of a test cluster: a whole track stack whose directory and relay are on a shared Redis. */
export interface RelayNode {
  id: string;
  stack: Stack;
  directory: RedisSessionDirectory;
  relay: SessionRelay;
  /** The node dies: its Redis connections drop with no goodbye (its sessions stay in the directory). */
  kill(): void;
  /** Its heartbeat stops (the command connection drops) while its relay channel still listens. */
  stopHeartbeat(): void;
  close(): Promise<void>;
}

export interface RelayNodeOptions {
  redisUrl: string;
  /** Every node of one cluster uses the same prefix; each test cluster its own. */
  prefix: string;
  pool?: GrooveboxPool;
  remix?: Uint8Array[];
  heartbeatTtlMs?: number;
  relayTimeoutMs?: number;
  manager?: Partial<SessionManagerOptions>;
  /** Start the relay but never answer relayed messages (a hung node). */
  mute?: boolean;
  /** The directory's and relay's logger (a test reading their warnings). Default silent. */
  logger?: Logger;
}

function connection(url: string): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on("error", () => undefined);
  return redis;
}

/**
 * Builds the directory and relay as `TrackCluster.connect` does, on connections the test holds,
 * so it can drop them as a killed process would.
 */
export async function startRelayNode(id: string, options: RelayNodeOptions): Promise<RelayNode> {
  const redis = connection(options.redisUrl);
  const subscriber = connection(options.redisUrl);
  const log = options.logger ?? logger;
  const directory = await RedisSessionDirectory.start(redis, {
    nodeId: id,
    prefix: options.prefix,
    logger: log,
    ...(options.heartbeatTtlMs !== undefined ? { heartbeatTtlMs: options.heartbeatTtlMs } : {}),
  });
  const relay = await SessionRelay.start({
    directory,
    redis,
    subscriber,
    prefix: options.prefix,
    logger: log,
    ...(options.relayTimeoutMs !== undefined ? { timeoutMs: options.relayTimeoutMs } : {}),
  });
  const stack = await startStack({
    ...(options.pool ? { pool: options.pool } : {}),
    ...(options.remix ? { remix: options.remix } : {}),
    manager: { ...options.manager, directory },
    ...(options.mute ? {} : { relay }),
  });
  let killed = false;
  return {
    id,
    stack,
    directory,
    relay,
    kill() {
      killed = true;
      redis.disconnect();
      subscriber.disconnect();
    },
    stopHeartbeat() {
      killed = true;
      redis.disconnect();
    },
    async close() {
      await stack.close();
      if (killed) {
        subscriber.disconnect();
        return;
      }
      await relay.close();
      await directory.close();
      await redis.quit();
      await subscriber.quit();
    },
  };
}

/** `POST /{app}/track/{type}` on a node, as `user`'s token of that node. */
export async function post(
  node: RelayNode,
  app: string,
  token: string,
  type: string,
  body: Record<string, unknown>,
): Promise<TrackResponse> {
  const res = await fetch(`${node.stack.url}/${app}/track/${type}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`${type} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as TrackResponse;
}
