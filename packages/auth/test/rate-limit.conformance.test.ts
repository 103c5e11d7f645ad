import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { MemoryRateLimitCounter, type RateLimitCounter, rateLimit } from "../src/rate-limit.js";
import { twoRedisNodes } from "./redis-nodes.js";

/** One suite, both engines of `RateLimitCounter`: in-process and Redis (a real redis-server). */
interface Engine {
  name: string;
  /** Two handles on one set of counts (the same object in memory, two connections on Redis). */
  counters(): [RateLimitCounter, RateLimitCounter];
}

const redis = twoRedisNodes();

const engines: Engine[] = [
  {
    name: "memory",
    counters() {
      const counter = new MemoryRateLimitCounter();
      return [counter, counter];
    },
  },
  {
    name: "redis",
    counters() {
      const name = redis.name();
      return [redis.nodes()[0].rateLimitCounter(name), redis.nodes()[1].rateLimitCounter(name)];
    },
  },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(engines)("RateLimitCounter conformance: $name", (engine) => {
  it("counts hits per key within a window, through either handle, and says when it ends", async () => {
    const [a, b] = engine.counters();
    const before = Date.now();
    const first = await a.hit("10.0.0.1", 60_000);
    expect(first.count).toBe(1);
    expect(first.resetAt).toBeGreaterThanOrEqual(before + 59_000);
    expect(first.resetAt).toBeLessThanOrEqual(Date.now() + 60_000);
    expect((await b.hit("10.0.0.1", 60_000)).count).toBe(2);
    expect((await a.hit("10.0.0.2", 60_000)).count).toBe(1);
  });

  it("starts a new window after the old one ends", async () => {
    const [a, b] = engine.counters();
    await a.hit("k", 150);
    await b.hit("k", 150);
    await sleep(300);
    expect((await b.hit("k", 150)).count).toBe(1);
  });

  it("loses no hit under concurrency", async () => {
    const [a, b] = engine.counters();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).hit("busy", 60_000)),
    );
    expect(results.map((r) => r.count).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
  });

  it("refuses bad keys and windows", async () => {
    const [a] = engine.counters();
    for (const bad of ["", "x".repeat(513), undefined] as unknown as string[]) {
      await expect(a.hit(bad, 1000)).rejects.toThrow(RangeError);
    }
    for (const window of [0, -5, 1.5, Number.NaN])
      await expect(a.hit("k", window)).rejects.toThrow(RangeError);
  });

  it("drives rateLimit(): 429 with Retry-After past the limit, shared by two apps (two nodes)", async () => {
    const [a, b] = engine.counters();
    const app = (counter: RateLimitCounter) =>
      new Hono()
        .use(rateLimit({ limit: 3, windowSeconds: 60, counter, clientKey: () => "client" }))
        .get("/", (c) => c.text("ok"));
    const [nodeA, nodeB] = [app(a), app(b)];
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await (i % 2 ? nodeB : nodeA).request("/")).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await nodeA.request("/");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThanOrEqual(59);
    expect(await refused.json()).toMatchObject({ error: { code: "rate_limited" } });
  });
});
