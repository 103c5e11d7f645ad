import type { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { InProcessDirectory, RedisSessionDirectory, type SessionDirectory } from "../src/cluster/index.js";
import { logger } from "./helpers.js";
import { redisFixture } from "./redis-fixture.js";

const redis = redisFixture();
const connection = () => redis.connection();
let run = 0;

/** A Redis directory for `nodeId` in this test's own key space. */
function redisDirectory(
  nodeId: string,
  prefix: string,
  options: { heartbeatTtlMs?: number; sessionTtlMs?: number; redis?: Redis } = {},
): Promise<RedisSessionDirectory> {
  return RedisSessionDirectory.start(options.redis ?? connection(), { nodeId, prefix, logger, ...options });
}

const engines: Array<[string, (nodeId: string) => Promise<SessionDirectory>]> = [
  ["in-process", async (nodeId) => new InProcessDirectory(nodeId)],
  [
    "Redis",
    (nodeId) => {
      const prefix = `conformance-${++run}:`;
      return redisDirectory(nodeId, prefix);
    },
  ],
];

describe.each(engines)("session directory conformance: %s", (_name, open) => {
  it("answers its own node for a claimed session, and nothing once released", async () => {
    const dir = await open("node-a");
    expect(await dir.lookup("s1")).toBeUndefined();
    await dir.claim("s1");
    expect(await dir.lookup("s1")).toEqual({ node: "node-a", alive: true });
    await dir.release("s1");
    expect(await dir.lookup("s1")).toBeUndefined();
    await dir.close();
  });

  it("drops an entry only for the node it names", async () => {
    const dir = await open("node-a");
    await dir.claim("s2");
    await dir.drop("s2", "node-z");
    expect(await dir.lookup("s2")).toEqual({ node: "node-a", alive: true });
    await dir.drop("s2", "node-a");
    expect(await dir.lookup("s2")).toBeUndefined();
    await dir.close();
  });

  it("answers nothing for unknown, empty or oversized ids, and releasing an unknown id is harmless", async () => {
    const dir = await open("node-a");
    for (const id of ["never-claimed", "", "x".repeat(100_000)]) expect(await dir.lookup(id)).toBeUndefined();
    await dir.release("never-claimed");
    await dir.drop("x".repeat(100_000), "node-a");
    await dir.close();
  });

  it("forgets its sessions when closed", async () => {
    const dir = await open("node-a");
    await dir.claim("s3");
    await dir.close();
    expect(await dir.lookup("s3")).toBeUndefined();
  });
});

describe("the Redis directory among nodes", () => {
  it("answers another node's session to every node, until that node releases it", async () => {
    const prefix = `nodes-${++run}:`;
    const [a, b] = [await redisDirectory("node-a", prefix), await redisDirectory("node-b", prefix)];
    await a.claim("shared");
    expect(await b.lookup("shared")).toEqual({ node: "node-a", alive: true });
    await a.release("shared");
    expect(await b.lookup("shared")).toBeUndefined();
    // A release by a node that does not hold the session removes nothing.
    await a.claim("kept");
    await b.release("kept");
    expect(await b.lookup("kept")).toEqual({ node: "node-a", alive: true });
    await a.close();
    await b.close();
  });

  it("keeps a live session's entry past its TTL (refreshed), and removes a closed node's entries", async () => {
    const prefix = `ttl-${++run}:`;
    const a = await redisDirectory("node-a", prefix, { heartbeatTtlMs: 150, sessionTtlMs: 300 });
    const b = await redisDirectory("node-b", prefix);
    await a.claim("long-lived");
    await new Promise((r) => setTimeout(r, 900));
    expect(await b.lookup("long-lived")).toEqual({ node: "node-a", alive: true });
    await a.close();
    expect(await b.lookup("long-lived")).toBeUndefined();
    await b.close();
  });

  it("sees a killed node's sessions as gone once its heartbeat expires, and drops them", async () => {
    const prefix = `killed-${++run}:`;
    const killedConnection = connection();
    const a = await redisDirectory("node-a", prefix, { heartbeatTtlMs: 300, redis: killedConnection });
    const b = await redisDirectory("node-b", prefix);
    await a.claim("orphan");
    expect(await b.lookup("orphan")).toEqual({ node: "node-a", alive: true });
    // Killed: its connection drops, nothing more is written (no release, no goodbye).
    killedConnection.disconnect();
    await expect
      .poll(() => b.lookup("orphan"), { timeout: 3_000, interval: 50 })
      .toEqual({ node: "node-a", alive: false });
    // Dropped at that lookup: later lookups know nothing of it.
    expect(await b.lookup("orphan")).toBeUndefined();
    await a.close().catch(() => undefined);
    await b.close();
  });

  it("refuses nothing silently: a claim on a Redis that is gone fails", async () => {
    const gone = connection();
    const dir = await redisDirectory("node-x", `gone-${++run}:`, { redis: gone });
    gone.disconnect();
    await expect(dir.claim("s")).rejects.toThrow();
    await dir.close().catch(() => undefined);
  });
});
