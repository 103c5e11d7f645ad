import { startPostgres, startRedis, type TestPostgres, type TestRedis } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ComposedAmp, startComposed } from "./helpers/composed.js";
import { runBin } from "./helpers/server-process.js";

/**
 * A node on --database-url and --redis-url while PostgreSQL, then Redis, are killed and started
 * again: what needs the stopped engine answers a clear 503 (never a hang, a 500 or an exit), the
 * rest keeps working, and everything works again once the engine is back.
 */
let postgres: TestPostgres;
let redis: TestRedis;
let amp: ComposedAmp;
let root = "";

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
  const databaseUrl = await postgres.createDatabase("outages");
  amp = await startComposed({ databaseUrl, redisUrl: redis.url });
  const made = await runBin(["token", "--user", "root", "--database-dir", amp.dataDir], {
    RMX_DATABASE_URL: databaseUrl,
  });
  expect(made.code, made.stderr).toBe(0);
  root = made.stdout.trim().split("\n").at(-1)!;
  const created = await call("POST", "/x/apps", { name: "outage" });
  expect(created.status).toBeLessThan(300);
  expect((await call("POST", "/outage", { _rmx_id: "before", _rmx_type: "note" })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await amp?.close();
  await postgres?.stop();
  await redis?.stop();
});

function call(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(amp.url(path), {
    method,
    headers: {
      authorization: `Bearer ${root}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function errorOf(response: Response): Promise<{ status: number; code: unknown }> {
  const body = (await response.json().catch(() => ({}))) as { error?: { code?: unknown } };
  return { status: response.status, code: body.error?.code };
}

/** Retries `attempt` until it answers `status` (the pool and listeners reconnect on their own). */
async function until(status: number, attempt: () => Promise<Response>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < end) {
    const response = await attempt().catch(() => undefined);
    last = response?.status ?? 0;
    await response?.arrayBuffer().catch(() => undefined);
    if (last === status) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`still ${last}, not ${status}, after ${timeoutMs} ms`);
}

describe("engines going away under a running node", () => {
  it("PostgreSQL down: app data and secrets answer 503 database_unavailable; back: served again", async () => {
    await postgres.kill();
    expect(await errorOf(await call("GET", "/outage/documents/before.json"))).toEqual({
      status: 503,
      code: "database_unavailable",
    });
    expect(await errorOf(await call("POST", "/outage", { _rmx_id: "during", _rmx_type: "note" }))).toEqual({
      status: 503,
      code: "database_unavailable",
    });
    expect(await errorOf(await call("GET", "/x/secrets/outage"))).toEqual({
      status: 503,
      code: "database_unavailable",
    });
    expect((await fetch(amp.url("/x/health/live"))).status).toBe(200);

    await postgres.start();
    await until(200, () => call("GET", "/outage/documents/before.json"));
    expect((await call("POST", "/outage", { _rmx_id: "after", _rmx_type: "note" })).status).toBe(201);
    // The refused write left nothing behind.
    expect((await call("GET", "/outage/documents/during.json")).status).toBe(404);
  }, 90_000);

  it("Redis down: the short-lived login state answers 503; the rest works; back: served again", async () => {
    const challenge = () =>
      fetch(amp.url("/x/pubkey/challenge"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
    expect((await challenge()).status).toBe(200);
    await redis.kill();
    expect((await errorOf(await challenge())).status).toBe(503);
    expect((await call("GET", "/outage/documents/before.json")).status).toBe(200);
    expect((await fetch(amp.url("/x/health/live"))).status).toBe(200);

    await redis.start();
    await until(200, challenge);
  }, 90_000);
});
