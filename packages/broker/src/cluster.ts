import type { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { isIP } from "node:net";

const require = createRequire(import.meta.url);

/** aedes' `mq` and `persistence` for a Redis-backed cluster. */
export interface ClusterBackends {
  mq: unknown;
  persistence: unknown;
}

/**
 * `redis[s]://[user:password@]host:port[/db]` → ioredis options (both libraries take those).
 * `rediss://` adds TLS: the server's certificate is verified (Node's CA store plus
 * NODE_EXTRA_CA_CERTS) for the URL's host, sent as SNI unless it is an IP address (RFC 6066). The
 * same two lines as @amp/auth's `redisTlsOptions`, which would load ioredis with the broker.
 */
export function redisOptions(url: string): Record<string, unknown> {
  const parsed = new URL(url);
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")
    throw new Error(`cluster URL must be redis://… or rediss://…, got ${parsed.protocol}`);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`cluster URL has a bad database number`);
  // An IPv6 address keeps its brackets in a URL, not in a socket's host.
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  return {
    host,
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db,
    ...(parsed.protocol === "rediss:" ? { tls: isIP(host) ? {} : { servername: host } } : {}),
  };
}

/**
 * Shares subscriptions, retained messages and QoS 1/2 sessions between amp processes through
 * Redis: mqemitter-redis carries messages between brokers, aedes-persistence-redis stores state.
 *
 * Both libraries' connection errors go to `onError`: mqemitter-redis' would be re-emitted on an
 * emitter nobody listens to, which throws (a Redis restart would end the process), and
 * aedes-persistence-redis' ioredis would print "[ioredis] Unhandled error event" to stderr,
 * outside the logs. It takes our connection (`conn`), which it disconnects on destroy. ioredis
 * reconnects on its own meanwhile.
 */
export function redisCluster(url: string, onError: (error: Error) => void): ClusterBackends {
  const options = redisOptions(url);
  const mqemitterRedis = require("mqemitter-redis") as (o: object) => { state: EventEmitter };
  const persistenceRedis = require("aedes-persistence-redis") as (o: object) => unknown;
  const { Redis } = require("ioredis") as typeof import("ioredis");
  const mq = mqemitterRedis(options);
  mq.state.on("error", onError);
  const conn = new Redis(options).on("error", onError);
  return { mq, persistence: persistenceRedis({ ...options, conn }) };
}
