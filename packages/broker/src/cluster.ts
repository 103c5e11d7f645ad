import type { EventEmitter } from "node:events";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** aedes' `mq` and `persistence` for a Redis-backed cluster. */
export interface ClusterBackends {
  mq: unknown;
  persistence: unknown;
}

/** `redis://[user:password@]host:port[/db]` → ioredis options (both libraries take those). */
export function redisOptions(url: string): Record<string, unknown> {
  const parsed = new URL(url);
  if (parsed.protocol !== "redis:") throw new Error(`cluster URL must be redis://…, got ${parsed.protocol}`);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`cluster URL has a bad database number`);
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db,
  };
}

/**
 * Shares subscriptions, retained messages and QoS 1/2 sessions between amp processes through
 * Redis: mqemitter-redis carries messages between brokers, aedes-persistence-redis stores state.
 *
 * mqemitter-redis' connection errors go to `onError`: left alone, it re-emits them on an emitter
 * nobody listens to, which throws, and a Redis restart would end the process. ioredis
 * reconnects on its own meanwhile.
 */
export function redisCluster(url: string, onError: (error: Error) => void): ClusterBackends {
  const options = redisOptions(url);
  const mqemitterRedis = require("mqemitter-redis") as (o: object) => { state: EventEmitter };
  const persistenceRedis = require("aedes-persistence-redis") as (o: object) => unknown;
  const mq = mqemitterRedis(options);
  mq.state.on("error", onError);
  // aedes-persistence-redis' own connection errors are ioredis' logged "unhandled error event",
  // never a throw.
  return { mq, persistence: persistenceRedis(options) };
}
