import type { AddressInfo } from "node:net";
import { createServer } from "node:tls";
import { startRedis, type TestRedis } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis, RedisUnavailableError, redisTlsOptions } from "../src/redis-state.js";

/**
 * `rediss://` from this process, which does not trust the test Redis' self-signed certificate
 * (NODE_EXTRA_CA_CERTS is read when Node starts; apps/server's redis-tls test runs nodes that do):
 * what is verified, what is sent, and how a failure reads. The password must never show.
 */
const PASSWORD = "pw-in-url-2468";
let tlsRedis: TestRedis;
let plainRedis: TestRedis;

beforeAll(async () => {
  [tlsRedis, plainRedis] = await Promise.all([
    startRedis({ tls: true, password: PASSWORD }),
    startRedis({ password: PASSWORD }),
  ]);
}, 30_000);

afterAll(async () => {
  await tlsRedis?.stop();
  await plainRedis?.stop();
});

/** How `connectRedis(url)` failed, and how long it took. */
async function refusal(url: string, connectTimeoutMs?: number) {
  const started = Date.now();
  const error = await connectRedis(url, connectTimeoutMs ? { connectTimeoutMs } : {}).then(
    (redis) => {
      redis.disconnect();
      throw new Error("connected");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RedisUnavailableError);
  expect(error).toMatchObject({ code: "redis_unavailable" });
  expect((error as Error).message).not.toContain(PASSWORD);
  return { message: (error as Error).message, ms: Date.now() - started };
}

describe("redisTlsOptions", () => {
  it("verifies the URL's host name and sends it as SNI; an IP address is verified but not sent", () => {
    expect(redisTlsOptions(new URL("rediss://:pw@cache.internal:6380/1"))).toEqual({
      servername: "cache.internal",
    });
    expect(redisTlsOptions(new URL("rediss://10.0.0.5"))).toEqual({});
    expect(redisTlsOptions(new URL("rediss://[::1]:6380"))).toEqual({});
    expect(redisTlsOptions(new URL("redis://cache.internal"))).toBeUndefined();
  });
});

describe("connectRedis over TLS", () => {
  // Node 24 adds its own advice after "self-signed certificate" (--use-system-ca); Node 20 does not.
  it("refuses a certificate this process does not trust, naming the fix, at once", async () => {
    const { message, ms } = await refusal(tlsRedis.url);
    expect(message).toMatch(
      /^Redis at rediss:\/\/:\*\*\*@localhost:\d+ is unavailable: self-signed certificate[^(]* \(TLS: the server's certificate was not accepted for localhost; give Node its CA in NODE_EXTRA_CA_CERTS\)$/,
    );
    expect(ms).toBeLessThan(3_000);
  });

  it("sends the URL's host as SNI (managed services route by it)", async () => {
    const seen: string[] = [];
    // No certificate: the handshake fails after the client's hello, which is all this test reads.
    const server = createServer({
      SNICallback: (name, done) => {
        seen.push(name);
        done(null, undefined);
      },
    });
    server.on("tlsClientError", () => undefined);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await refusal(`rediss://:${PASSWORD}@localhost:${port}`, 1_000);
      expect(seen[0]).toBe("localhost");
    } finally {
      server.close();
    }
  });

  it("to a plain (non-TLS) port: gives up after the connect timeout and says the port may not be TLS", async () => {
    const url = plainRedis.url.replace(/^redis:/, "rediss:");
    const { message, ms } = await refusal(url, 500);
    expect(message).toMatch(
      /^Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+ is unavailable: connect ETIMEDOUT \(TLS: no handshake within 500 ms; is that port plain redis:\/\/ rather than rediss:\/\/\?\)$/,
    );
    expect(ms).toBeLessThan(3_000);
  });
});
