import { startRedis, type TestRedis } from "@amp/test-support";
import { afterAll, beforeAll } from "vitest";
import { RedisAuthState } from "../src/redis-state.js";

/**
 * Two amp "nodes" on one real redis-server this suite starts: two connections sharing entries.
 * `name()` gives each test its own key space.
 */
export function twoRedisNodes(): {
  nodes: () => [RedisAuthState, RedisAuthState];
  redis: () => TestRedis;
  name: () => string;
} {
  let redis: TestRedis | undefined;
  let nodes: [RedisAuthState, RedisAuthState] | undefined;
  let run = 0;
  beforeAll(async () => {
    redis = await startRedis();
    nodes = [await RedisAuthState.connect(redis.url), await RedisAuthState.connect(redis.url)];
  }, 30_000);
  afterAll(async () => {
    await Promise.all((nodes ?? []).map((n) => n.close()));
    await redis?.stop();
  });
  return {
    nodes: () => nodes!,
    redis: () => redis!,
    name: () => `conformance-${++run}`,
  };
}
