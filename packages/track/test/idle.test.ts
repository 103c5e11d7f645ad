import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRemix, type Stack, startStack, TrackClient } from "./helpers.js";

const SESSIONS = 1000;
const MiB = 1024 * 1024;

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  return cond();
}

/**
 * The reliability target "1,000 concurrent idle sessions": a WebSocket per session on loopback,
 * each answering keepAlives, all still usable afterwards, all released when the clients leave.
 */
describe(`${SESSIONS} concurrent idle sessions (native backend, loopback WebSockets)`, () => {
  let stack: Stack;
  let token: string;
  const clients: Array<{ client: TrackClient; session: string }> = [];

  beforeAll(async () => {
    stack = await startStack({
      remix: [buildRemix("idle", new TextEncoder().encode("tim-native"))],
      manager: {
        maxSessionsPerUser: SESSIONS,
        keepAliveMs: 400,
        disconnectGraceMs: 200,
        sweepIntervalMs: 50,
      },
    });
    await stack.apps.setRules({ id: "root", anonymous: false, root: true }, "idle", {
      allowed_run: ["alice"],
    });
    token = await stack.token("alice");
  });
  afterAll(async () => {
    for (const { client } of clients) client.ws.terminate();
    await stack?.close();
  });

  it("holds them within 5 MiB each, keeps them alive, and releases them when the clients go", async () => {
    const before = process.memoryUsage();
    for (let batch = 0; batch < SESSIONS / 100; batch++) {
      clients.push(
        ...(await Promise.all(
          Array.from({ length: 100 }, async () => {
            const client = await TrackClient.open(stack.url, "idle", token);
            const { response } = await client.request({ _rmx_type: "msg_session_create" });
            expect(response.errors).toBeUndefined();
            return { client, session: response.session };
          }),
        )),
      );
    }
    const held = process.memoryUsage();
    expect(stack.sessions.size).toBe(SESSIONS);
    const perSession = (held.rss - before.rss) / SESSIONS / MiB;
    console.log(
      `${SESSIONS} idle sessions over WebSockets: RSS +${((held.rss - before.rss) / MiB).toFixed(1)} MiB ` +
        `(${perSession.toFixed(3)} MiB per session, server and clients in one process), ` +
        `JS heap +${((held.heapUsed - before.heapUsed) / MiB).toFixed(1)} MiB`,
    );
    expect(perSession).toBeLessThan(5);

    // Idle, with keepAlives every 400 ms answered by each client: none is lost.
    expect(await until(() => clients.every(({ client }) => client.keepAlives >= 2), 10_000)).toBe(true);
    expect(stack.sessions.size).toBe(SESSIONS);
    const sample = clients.filter((_, i) => i % 100 === 0);
    for (const { client, session } of sample) {
      const { response } = await client.request({
        _rmx_type: "msg_view_invoke",
        session,
        name: "home.$closure_1",
      });
      expect(response.errors).toBeUndefined();
    }

    for (const { client } of clients) client.close();
    expect(await until(() => stack.sessions.size === 0, 10_000)).toBe(true);
  }, 30_000);
});
