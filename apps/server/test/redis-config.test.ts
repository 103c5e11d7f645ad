import { hostname } from "node:os";
import { startPostgres, startRedis, type TestPostgres } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, serverConfig } from "../src/index.js";
import { startComposed } from "./helpers/composed.js";
import { runBin, ServerProcess } from "./helpers/server-process.js";

describe("--redis-url and --node-id", () => {
  it("are unset by default: everything stays in this process", () => {
    const config = serverConfig();
    expect(config.redisUrl).toBeUndefined();
    expect(config.nodeId).toBeUndefined();
  });

  it("read a redis:// URL and a node id from flags or the environment", () => {
    const withDatabase = { RMX_DATABASE_URL: "postgres://db.internal/amp" };
    const fromFlags = loadConfig(
      ["--redis-url", "redis://:s3cret@cache.internal:6380/2", "--node-id", "amp-1"],
      withDatabase,
    );
    expect(fromFlags).toMatchObject({
      config: { redisUrl: "redis://:s3cret@cache.internal:6380/2", nodeId: "amp-1" },
    });
    const fromEnv = loadConfig([], {
      ...withDatabase,
      RMX_REDIS_URL: "redis://127.0.0.1",
      RMX_NODE_ID: `${hostname()}:8000`,
    });
    expect(fromEnv).toMatchObject({
      config: { redisUrl: "redis://127.0.0.1", nodeId: `${hostname()}:8000` },
    });
  });

  it("read a rediss:// (TLS) URL, with credentials and a database, as given", () => {
    const withDatabase = { RMX_DATABASE_URL: "postgres://db.internal/amp" };
    const tls = "rediss://default:s%40cret@cache.internal:6380/1";
    expect(loadConfig(["--redis-url", tls], withDatabase)).toMatchObject({ config: { redisUrl: tls } });
    expect(loadConfig([], { ...withDatabase, RMX_REDIS_URL: "rediss://10.0.0.5" })).toMatchObject({
      config: { redisUrl: "rediss://10.0.0.5" },
    });
  });

  const bad: [string, string][] = [
    ["not a URL", "cache.internal:6379"],
    ["another scheme", "http://user:pw-in-url@cache.internal"],
    ["another scheme that looks like TLS", "redis+tls://user:pw-in-url@cache.internal"],
    ["a database that is not a number", "redis://user:pw-in-url@cache.internal/zero"],
    ["a query", "redis://user:pw-in-url@cache.internal?tls=1"],
    ["TLS with a query", "rediss://user:pw-in-url@cache.internal?tls=false"],
    ["TLS without a host", "rediss://user:pw-in-url@/0"],
  ];
  it.each(bad)("refuses %s, naming the setting and never echoing the URL", (_what, url) => {
    for (const [argv, env, name] of [
      [["--redis-url", url], {}, "--redis-url"],
      [[], { RMX_REDIS_URL: url }, "RMX_REDIS_URL"],
    ] as const) {
      let error: unknown;
      try {
        loadConfig(argv, env);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(new RegExp(`^${name}: invalid value: `));
      expect((error as Error).message).not.toContain("pw-in-url");
      expect((error as Error).message).not.toContain("cache.internal");
    }
  });

  const badDatabase: [string, string][] = [
    ["not a URL", "db.internal:5432/amp"],
    ["another scheme", "mysql://user:pw-in-url@db.internal/amp"],
    ["no host", "postgres://user:pw-in-url@/amp"],
    ["a fragment", "postgres://user:pw-in-url@db.internal/amp#x"],
    ["a password not percent-encoded", "postgres://user:%E0%A4%A@db.internal/amp"],
    ["past 4 KiB", `postgres://user:pw-in-url@db.internal/${"a".repeat(5000)}`],
  ];
  it.each(badDatabase)(
    "refuses a --database-url with %s, naming the setting and never echoing it",
    (_what, url) => {
      for (const [argv, env, name] of [
        [["--database-url", url], {}, "--database-url"],
        [[], { RMX_DATABASE_URL: url }, "RMX_DATABASE_URL"],
      ] as const) {
        const error = (() => {
          try {
            loadConfig(argv, env);
          } catch (e) {
            return e;
          }
        })();
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).toMatch(new RegExp(`^${name}: invalid value: `));
        expect((error as Error).message).not.toContain("pw-in-url");
        expect((error as Error).message).not.toContain("db.internal");
      }
      expect(
        loadConfig(["--database-url", "postgresql://amp:s%40crét@db.internal:5433/amp"], {}),
      ).toMatchObject({
        config: { databaseUrl: "postgresql://amp:s%40cr%C3%A9t@db.internal:5433/amp" },
      });
    },
  );

  it("refuses --redis-url without --database-url, naming the missing setting and the fix", () => {
    const refusals = [
      () => loadConfig(["--redis-url", "redis://:pw-in-url@cache.internal"], {}),
      () => loadConfig([], { RMX_REDIS_URL: "redis://:pw-in-url@cache.internal" }),
      () => serverConfig({ redisUrl: "redis://:pw-in-url@cache.internal" }),
    ];
    for (const refuse of refusals) {
      const error = (() => {
        try {
          refuse();
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: "invalid_config" });
      expect((error as Error).message).toMatch(/^(--database-url|databaseUrl): required with --redis-url: /);
      expect((error as Error).message).toContain("give every node the same postgres://… URL");
      expect((error as Error).message).not.toContain("pw-in-url");
    }
    // Either URL alone where it makes sense: PostgreSQL alone is one node on a shared database.
    const alone = loadConfig(["--database-url", "postgres://db.internal/amp"], {});
    expect(alone).toMatchObject({ config: { databaseUrl: "postgres://db.internal/amp" } });
    expect(alone.help || alone.config.redisUrl).toBeUndefined();
    expect(
      loadConfig(["--redis-url", "redis://cache.internal"], {
        RMX_DATABASE_URL: "postgres://db.internal/amp",
      }),
    ).toMatchObject({
      config: { redisUrl: "redis://cache.internal", databaseUrl: "postgres://db.internal/amp" },
    });
  });

  it("refuses a node id with spaces or slashes", () => {
    expect(() => loadConfig(["--node-id", "a b"], {})).toThrow(/^--node-id: invalid value "a b"/);
    expect(() => loadConfig([], { RMX_NODE_ID: "x/y" })).toThrow(/^RMX_NODE_ID: /);
  });

  it("the bin exits 2 on a bad URL without printing the password, and lists both in --help", async () => {
    const refused = await runBin([], { RMX_REDIS_URL: "rediss://admin:pw-in-url@cache.internal:6379/x" });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("RMX_REDIS_URL");
    expect(refused.stdout + refused.stderr).not.toContain("pw-in-url");
    const alone = await runBin(["--redis-url", "redis://admin:pw-in-url@cache.internal:6379"]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain("amp: --database-url: required with --redis-url: ");
    expect(alone.stdout + alone.stderr).not.toContain("pw-in-url");
    const help = await runBin(["--help"]);
    for (const name of ["--redis-url <url>", "RMX_REDIS_URL", "--node-id <id>", "RMX_NODE_ID"]) {
      expect(help.stdout).toContain(name);
    }
  });
});

describe("--redis-url against a real redis-server (with the PostgreSQL it requires)", () => {
  let postgres: TestPostgres;
  beforeAll(async () => {
    postgres = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await postgres?.stop();
  });

  it("refuses to start against a Redis that refuses the password, without showing it", async () => {
    const redis = await startRedis({ password: "the-right-one-123" });
    try {
      const wrong = redis.url.replace("the-right-one-123", "pw-in-url");
      const databaseUrl = await postgres.createDatabase("wrong_redis_password");
      const error = await startComposed({ redisUrl: wrong, databaseUrl }).catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect(String((error as Error).message)).toMatch(
        /Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ is unavailable: WRONGPASS/,
      );
      expect(String((error as Error).message)).not.toContain("pw-in-url");
    } finally {
      await redis.stop();
    }
  }, 30_000);

  it("a real amp process on a password-protected Redis starts, says so, and never logs the password", async () => {
    const redis = await startRedis({ password: "pw-never-logged-42" });
    const amp = new ServerProcess(["--log-level", "trace"], {
      RMX_REDIS_URL: redis.url,
      RMX_DATABASE_URL: await postgres.createDatabase("redis_password"),
      RMX_NODE_ID: "node-1",
    });
    try {
      await amp.ready(30_000);
      await amp.waitForLog("auth: pending logins, passkey challenges, login codes and rate limits in Redis");
      const listening = amp.logs.find((l) => l.message === "MQTT broker listening");
      expect(listening).toMatchObject({ cluster: true });
      expect(amp.stdout + amp.stderr).not.toContain("pw-never-logged-42");
    } finally {
      await amp.dispose();
      await redis.stop();
    }
  }, 60_000);
});
