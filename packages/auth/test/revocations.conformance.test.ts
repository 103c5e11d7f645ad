import { LmdbRecordStore } from "@amp/records";
import { Redis } from "ioredis";
import { open, type RootDatabase } from "lmdb";
import { afterAll, describe, expect, it } from "vitest";
import { RevocationList } from "../src/revocations.js";
import { MemoryRevocationHub, type RevocationFeed } from "../src/revocations-feed.js";
import type { StoredRevocation } from "../src/revocations-record.js";
import { RedisRevocationFeed } from "../src/revocations-redis.js";
import { tempDir } from "./helpers.js";
import { twoRedisNodes } from "./redis-nodes.js";

/** One suite, both engines of `RevocationFeed`: nodes in one process, and Redis (a real redis-server). */
interface Engine {
  name: string;
  /** A fresh set of shared revocations: each call of the answer is one node's feed. */
  cluster(): Promise<() => Promise<RevocationFeed>>;
}

const redis = twoRedisNodes();
const opened: Array<{ env: RootDatabase; feed: RevocationFeed; list: RevocationList }> = [];

afterAll(async () => {
  // Lists stop reloading first: a reload reading an environment while it closes throws in lmdb's timer.
  for (const { list } of opened) list.close();
  for (const { env, feed } of opened) {
    await feed.close();
    await env.close();
  }
});

const engines: Engine[] = [
  {
    name: "memory",
    async cluster() {
      const hub = new MemoryRevocationHub();
      return async () => hub.feed();
    },
  },
  {
    name: "redis",
    async cluster() {
      const prefix = `amp:test:${redis.name()}`;
      return () => RedisRevocationFeed.connect(redis.redis().url, { prefix });
    },
  },
];

/** A node: its own LMDB revocation list, sharing through `feed`. */
async function node(feed: RevocationFeed): Promise<RevocationList> {
  const env = open({ path: tempDir(), maxDbs: 2 });
  const list = await RevocationList.open(
    new LmdbRecordStore(env.openDB<StoredRevocation, string>({ name: "revoked" })),
    Date.now,
  );
  opened.push({ env, feed, list });
  await list.share(feed);
  return list;
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

describe.each(engines)("RevocationFeed conformance: $name", (engine) => {
  it("a token revoked on one node is refused on the others within a second", async () => {
    const feed = await engine.cluster();
    const [a, b, c] = [await node(await feed()), await node(await feed()), await node(await feed())];
    await a.add("j:issuer\0token-1", { exp: inAnHour(), user: "alice", by: "admin" });
    expect(a.has("j:issuer\0token-1")).toBe(true);
    await expect.poll(() => b.has("j:issuer\0token-1"), { timeout: 1_000, interval: 5 }).toBe(true);
    await expect.poll(() => c.has("j:issuer\0token-1"), { timeout: 1_000, interval: 5 }).toBe(true);
    expect(b.has("j:issuer\0token-2")).toBe(false);
    // Whose token and who revoked it travel with the announcement.
    const [listed] = c.list(1);
    expect(listed).toMatchObject({ id: "j:issuer\0token-1", user: "alice", by: "admin" });
    expect(listed!.revokedAt).toBeGreaterThan(Date.now() / 1000 - 60);
  });

  it("a node that starts later knows the revocations in force, not the expired ones", async () => {
    const feed = await engine.cluster();
    const a = await node(await feed());
    await a.add("in-force", { exp: inAnHour() });
    await a.add("expired", { exp: Math.floor(Date.now() / 1000) - 3600 });
    const late = await node(await feed());
    expect(late.has("in-force")).toBe(true);
    expect(late.has("expired")).toBe(false);
  });
});

describe("RedisRevocationFeed on a shared channel", () => {
  it("drops what is not an announcement and keeps applying real ones", async () => {
    const prefix = `amp:test:${redis.name()}`;
    const b = await node(await RedisRevocationFeed.connect(redis.redis().url, { prefix }));
    const intruder = new Redis(redis.redis().url);
    try {
      for (const junk of [
        "not json",
        JSON.stringify({ id: 42, exp: inAnHour() }),
        JSON.stringify({ id: "x".repeat(2000), exp: inAnHour() }),
        JSON.stringify({ id: "no-expiry" }),
        JSON.stringify({ id: "y", exp: "soon" }),
        JSON.stringify({ id: "huge", exp: inAnHour(), pad: "z".repeat(10_000) }),
        "null",
        "42",
        // An older node's announcement (no who or when) is applied; a bad user is dropped, not the revocation.
        JSON.stringify({ id: "old-node", exp: inAnHour(), from: "older" }),
        JSON.stringify({ id: "long-user", exp: inAnHour(), user: "u".repeat(257), by: 7 }),
      ]) {
        await intruder.publish(prefix, junk);
      }
    } finally {
      intruder.disconnect();
    }
    const a = await node(await RedisRevocationFeed.connect(redis.redis().url, { prefix }));
    await a.add("real", { exp: inAnHour() });
    await expect.poll(() => b.has("real"), { timeout: 1_000, interval: 5 }).toBe(true);
    for (const id of ["no-expiry", "y", "huge", "x".repeat(2000)]) expect(b.has(id)).toBe(false);
    const listed = new Map(b.list(10).map((r) => [r.id, r]));
    expect(listed.get("old-node")).toEqual({ id: "old-node", exp: expect.any(Number) });
    expect(listed.get("long-user")).toEqual({ id: "long-user", exp: expect.any(Number) });
  });
});
