import { startRedis } from "@amp/test-support";
import { describe, expect, it } from "vitest";
import { LoginCodeStore, MemorySingleUseStore, type SingleUseStore } from "../../src/login/index.js";
import type { LoginIdentity } from "../../src/login-identity.js";
import { RedisAuthState } from "../../src/redis-state.js";
import { twoRedisNodes } from "../redis-nodes.js";

/**
 * One suite, both engines of `SingleUseStore`: in-process and Redis (a real redis-server this
 * test starts). Each engine makes stores of a given TTL; the Redis one makes two stores on two
 * connections that share entries, as two amp nodes do.
 */
interface Engine {
  name: string;
  /** Two handles on one set of entries (the same object in memory, two connections on Redis). */
  stores<T>(ttlMs: number): [SingleUseStore<T>, SingleUseStore<T>];
}

const redis = twoRedisNodes();

const engines: Engine[] = [
  {
    name: "memory",
    stores<T>(ttlMs: number) {
      const store = new MemorySingleUseStore<T>({ ttlMs });
      return [store, store];
    },
  },
  {
    name: "redis",
    stores<T>(ttlMs: number) {
      const name = redis.name();
      return [
        redis.nodes()[0].singleUseStore<T>(name, ttlMs),
        redis.nodes()[1].singleUseStore<T>(name, ttlMs),
      ];
    },
  },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(engines)("SingleUseStore conformance: $name", (engine) => {
  it("hands an entry out once, as an equal copy, through either handle", async () => {
    const [a, b] = engine.stores<{ user: string; claims: { amr: string[] } }>(60_000);
    const value = { user: "alice", claims: { amr: ["passkey"] } };
    await a.put("k1", value);
    expect(await b.take("k1")).toEqual(value);
    expect(await a.take("k1")).toBeUndefined();
    expect(await b.take("k1")).toBeUndefined();
  });

  it("answers undefined for an unknown key, and a second put replaces the first", async () => {
    const [a, b] = engine.stores<number>(60_000);
    expect(await a.take("never-put")).toBeUndefined();
    await a.put("k", 1);
    await b.put("k", 2);
    expect(await a.take("k")).toBe(2);
    expect(await b.take("k")).toBeUndefined();
  });

  it("keeps entries apart by key and store", async () => {
    const [a] = engine.stores<string>(60_000);
    const [other] = engine.stores<string>(60_000);
    await a.put("same", "a");
    await other.put("same", "other");
    expect(await other.take("same")).toBe("other");
    expect(await a.take("same")).toBe("a");
  });

  it("expires entries after their TTL", async () => {
    const [a, b] = engine.stores<string>(150);
    await a.put("short", "v");
    await a.put("kept", "v");
    expect(await b.take("kept")).toBe("v");
    await sleep(300);
    expect(await b.take("short")).toBeUndefined();
    expect(await a.take("short")).toBeUndefined();
  });

  it("gives an entry to exactly one of many concurrent takers", async () => {
    const [a, b] = engine.stores<string>(60_000);
    for (let round = 0; round < 20; round++) {
      await a.put(`race-${round}`, `winner-${round}`);
      const got = await Promise.all(
        Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).take(`race-${round}`)),
      );
      expect(got.filter((g) => g !== undefined)).toEqual([`winner-${round}`]);
    }
  });

  it("refuses bad keys on put and answers undefined for them on take", async () => {
    const [a] = engine.stores<string>(60_000);
    for (const bad of ["", "x".repeat(513), undefined, 42, null] as unknown as string[]) {
      await expect(a.put(bad, "v")).rejects.toThrow(RangeError);
      expect(await a.take(bad)).toBeUndefined();
    }
    await a.put("x".repeat(512), "longest");
    expect(await a.take("x".repeat(512))).toBe("longest");
  });

  it("refuses a TTL that is not a positive whole number of ms", () => {
    for (const ttl of [0, -1, 1.5, Number.NaN]) expect(() => engine.stores(ttl)).toThrow(RangeError);
  });

  it("carries login codes from one LoginCodeStore to another on the same entries", async () => {
    const [a, b] = engine.stores<{ user: string; claims: Record<string, unknown> }>(60_000);
    const issuing = new LoginCodeStore({ store: a });
    const redeeming = new LoginCodeStore({ store: b });
    const code = await issuing.issue({ user: "bob", claims: { amr: ["oidc"] } });
    const [first, second] = await Promise.all([redeeming.redeem(code), issuing.redeem(code)]);
    expect([first, second].filter(Boolean)).toEqual([{ user: "bob", claims: { amr: ["oidc"] } }]);
    expect(await redeeming.redeem("not-a-code")).toBeUndefined();
    expect(await redeeming.redeem("")).toBeUndefined();
  });
});

describe("RedisSingleUseStore specifics", () => {
  it("keeps only the hash of a login code in Redis, with a TTL", async () => {
    const store = redis.nodes()[0].singleUseStore<LoginIdentity>("codes-check", 60_000);
    const code = await new LoginCodeStore({ store }).issue({ user: "carol", claims: {} });
    const { Redis } = await import("ioredis");
    const probe = new Redis(redis.redis().url);
    try {
      const keys = await probe.keys("amp:auth:codes-check:*");
      expect(keys).toHaveLength(1);
      expect(keys[0]).not.toContain(code);
      const ttl = await probe.pttl(keys[0]!);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      // A value that is not JSON (not ours) reads as absent, and is gone afterwards.
      await probe.set("amp:auth:codes-check:garbage", "{not json");
      expect(await store.take("garbage")).toBeUndefined();
      expect(await probe.exists("amp:auth:codes-check:garbage")).toBe(0);
    } finally {
      probe.disconnect();
    }
  });

  it("refuses to connect to a Redis that refuses the password, without showing it", async () => {
    const guarded = await startRedis({ password: "right-password-123" });
    try {
      const wrong = guarded.url.replace("right-password-123", "wrong-password-456");
      const error = await RedisAuthState.connect(wrong).catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/unavailable: WRONGPASS/);
      expect((error as Error).message).not.toContain("wrong-password-456");
      const ok = await RedisAuthState.connect(guarded.url);
      await ok.close();
    } finally {
      await guarded.stop();
    }
  });

  it("refuses to connect to nothing, quickly", async () => {
    const gone = await startRedis();
    await gone.stop();
    const started = Date.now();
    await expect(RedisAuthState.connect(gone.url, { connectTimeoutMs: 1_000 })).rejects.toThrow(
      /unavailable/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
