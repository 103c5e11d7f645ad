import { startRedis, type TestRedis } from "@amp/test-support";
import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";

/**
 * One real redis-server for a test file, and the ioredis connections its tests open: all closed
 * after the file. Call at the top level of the file.
 */
export function redisFixture(): { connection(): Redis; readonly url: string } {
  let redis: TestRedis | undefined;
  const connections: Redis[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    for (const c of connections) c.disconnect();
    await redis?.stop();
  });
  return {
    get url() {
      if (!redis) throw new Error("redis-server is not started yet (use it inside a test)");
      return redis.url;
    },
    connection() {
      const c = new Redis(this.url, { maxRetriesPerRequest: 1 });
      c.on("error", () => undefined); // a test that stops Redis expects its connections to fail
      connections.push(c);
      return c;
    },
  };
}
