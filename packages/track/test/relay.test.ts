import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GrooveboxPool } from "@amp/machine";
import {
  remixArtifactsFor,
  sessionCreate,
  startRedis,
  type TestRedis,
  viewInvoke,
  viewLoad,
} from "@amp/test-support";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TrackResponse, viewTexts } from "../src/index.js";
import { firstTap, root, TrackClient } from "./helpers.js";
import { post, type RelayNode, startRelayNode } from "./relay-nodes.js";

const artifacts = remixArtifactsFor("track relay (Groovebox)");
const APP = "tim-wasm";
const PREFIX = "relay-test:";

/** The cells of an answer and of the pushes before it. */
const cellsOf = (...responses: TrackResponse[]) => responses.flatMap((r) => r.cellMessages);

describe.skipIf(!artifacts)("sessions across nodes on one Redis (tim-wasm on the real Groovebox)", () => {
  let redis: TestRedis;
  let pool: GrooveboxPool;
  let remix: Uint8Array;
  let a: RelayNode;
  let b: RelayNode;
  const extra: RelayNode[] = [];

  async function node(id: string, options: Partial<Parameters<typeof startRelayNode>[1]> = {}) {
    const started = await startRelayNode(id, {
      redisUrl: redis.url,
      prefix: PREFIX,
      pool,
      remix: [remix],
      ...options,
    });
    await started.stack.apps.setRules(root, APP, { allowed_run: ["alice", "bob"] });
    return started;
  }

  beforeAll(async () => {
    redis = await startRedis();
    pool = await GrooveboxPool.open({ groovebox: artifacts!.groovebox, workers: 1 });
    remix = new Uint8Array(readFileSync(join(artifacts!.samples, `${APP}.remix`)));
    // A pushes keepAlives often, so one reaches a client attached through B within the test.
    a = await node("node-a", { manager: { keepAliveMs: 400, sweepIntervalMs: 100 } });
    b = await node("node-b", { relayTimeoutMs: 2_000 });
  }, 60_000);

  afterAll(async () => {
    for (const n of [...extra, b, a]) await n?.close();
    await pool?.close();
    await redis?.stop();
  });

  it("HTTP: a session created on A answers a load, a tap and a batch sent to B, run on A", async () => {
    const created = await post(a, APP, await a.stack.token("alice"), "msg_session_create", sessionCreate());
    const session = created.session;
    expect(created.errors).toBeUndefined();
    expect(a.stack.sessions.find(session)).toBeDefined();

    const onB = await b.stack.token("alice");
    const load = await post(b, APP, onB, "msg_view_load", viewLoad(session, "home"));
    expect(load.errors).toBeUndefined();
    expect(load).toMatchObject({ session, responseTo: "msg_view_load" });
    const view = cellsOf(load)
      .filter((c) => c.name === "home.view")
      .at(-1)!.value;
    expect(viewTexts(view)).toEqual(expect.arrayContaining(["Hello there!", "Click me"]));

    const tap = await post(b, APP, onB, "msg_view_invoke", viewInvoke(session, firstTap(view)));
    expect(tap.errors).toBeUndefined();
    expect(cellsOf(tap).find((c) => c.name === "$nextActions")?.value).toEqual([
      { _rmx_type: "msg_open_link", url: "https://www.remixlabs.com", target: "_blank" },
    ]);

    const batch = await fetch(`${b.stack.url}/${APP}/track`, {
      method: "POST",
      headers: { authorization: `Bearer ${onB}`, "content-type": "application/json" },
      body: JSON.stringify([
        { _rmx_type: "msg_session_keepAlive", session, _rmx_echo: "one" },
        { ...viewInvoke(session, firstTap(view)), _rmx_echo: "two" },
      ]),
    });
    const answers = (await batch.json()) as TrackResponse[];
    expect(answers.map((r) => [r._rmx_echo, r.errors])).toEqual([
      ["one", undefined],
      ["two", undefined],
    ]);
    // B ran nothing: every message ran in A's VM.
    expect(b.stack.sessions.size).toBe(0);
  });

  it("WebSocket: a client on B re-attaches to A's session; pushed cells and keepAlives reach it; closing starts A's grace", async () => {
    const first = await TrackClient.open(a.stack.url, APP, await a.stack.token("alice"));
    const { response } = await first.request(sessionCreate());
    const session = response.session!;
    first.close();
    await expect.poll(() => a.stack.sessions.find(session)?.detachedAt).toBeDefined();

    const client = await TrackClient.open(b.stack.url, APP, await b.stack.token("alice"));
    try {
      const load = await client.request(viewLoad(session, "home"));
      expect(load.response.errors).toBeUndefined();
      // Cells arrive as pushes before the answer, as on a local socket.
      const pushed = load.pushed.flatMap((m) => m.cellMessages);
      expect(pushed.map((c) => c.name)).toEqual(expect.arrayContaining(["$location", "home.view"]));
      const owned = a.stack.sessions.find(session)!;
      expect(owned.sink).toBeDefined();
      expect(owned.detachedAt).toBeUndefined();

      const view = pushed.filter((c) => c.name === "home.view").at(-1)!.value;
      const tap = await client.request(viewInvoke(session, firstTap(view)));
      expect(tap.pushed.flatMap((m) => m.cellMessages).map((c) => c.name)).toContain("$nextActions");
      // A's keepAlive pushes reach the client through B, and its answers go back to A.
      await expect.poll(() => client.keepAlives, { timeout: 5_000 }).toBeGreaterThan(0);
    } finally {
      client.close();
    }
    await expect.poll(() => a.stack.sessions.find(session)?.detachedAt, { timeout: 5_000 }).toBeDefined();
    expect(a.stack.sessions.find(session)?.sink).toBeUndefined();
  });

  it("the owner decides who may: another user through B hears 'no such session', whatever identity its message claims", async () => {
    const created = await post(a, APP, await a.stack.token("alice"), "msg_session_create", sessionCreate());
    const forged = {
      ...viewLoad(created.session, "home"),
      // Fields a client might add hoping to pass as someone else: the relay takes the verified user only.
      user: { id: "alice", anonymous: false, root: true, claims: {} },
      k: "req",
      from: "node-a",
      token: "forged",
    };
    const asBob = await post(b, APP, await b.stack.token("bob"), "msg_view_load", forged);
    expect(asBob.errors?.code).toBe("Track-noSession");
    const asAlice = await post(b, APP, await b.stack.token("alice"), "msg_view_load", forged);
    expect(asAlice.errors).toBeUndefined();
  });

  it("drops malformed relay messages on its channel and keeps relaying", async () => {
    // Only a process holding the Redis URL can publish here; even then, bad envelopes are dropped.
    const intruder = new Redis(redis.url);
    try {
      for (const bad of [
        "not json",
        JSON.stringify({ k: "req", id: "1", from: "node-b", user: { id: "root" }, app: APP, m: {} }),
        JSON.stringify({ k: "what" }),
        "x".repeat(17 * 1024 * 1024),
      ]) {
        await intruder.publish(`${PREFIX}relay:node-a`, bad);
      }
    } finally {
      intruder.disconnect();
    }
    const created = await post(a, APP, await a.stack.token("alice"), "msg_session_create", sessionCreate());
    const keepAlive = await post(b, APP, await b.stack.token("alice"), "msg_session_keepAlive", {
      session: created.session,
    });
    expect(keepAlive.errors).toBeUndefined();
  });

  it("a node that is gone: its sessions answer 'no such session' from another node, and new sessions work", async () => {
    const c = await node("node-c");
    extra.push(c);
    const created = await post(c, APP, await c.stack.token("alice"), "msg_session_create", sessionCreate());
    c.kill();
    const onB = await b.stack.token("alice");
    const first = await post(b, APP, onB, "msg_view_load", viewLoad(created.session, "home"));
    expect(first.errors).toMatchObject({ code: "Track-noSession", message: "no such session" });
    expect(first.errors?.reason).toContain("node-c");
    // Its entry is gone from the directory: later messages are "no such session" at once.
    expect(await b.directory.lookup(created.session)).toBeUndefined();
    const again = await post(b, APP, onB, "msg_session_keepAlive", { session: created.session });
    expect(again.errors?.code).toBe("Track-noSession");
    // The client's new session starts on the node it reaches.
    const fresh = await post(b, APP, onB, "msg_session_create", sessionCreate());
    expect(fresh.errors).toBeUndefined();
    expect(b.stack.sessions.find(fresh.session)).toBeDefined();
  });

  it("a node whose heartbeat expired (still subscribed, hung): its sessions are 'no such session' once the TTL passed", async () => {
    const h = await node("node-h", { heartbeatTtlMs: 300 });
    extra.push(h);
    const created = await post(h, APP, await h.stack.token("alice"), "msg_session_create", sessionCreate());
    h.stopHeartbeat();
    const onB = await b.stack.token("alice");
    await expect
      .poll(
        async () => (await post(b, APP, onB, "msg_session_keepAlive", { session: created.session })).errors,
        {
          timeout: 5_000,
          interval: 100,
        },
      )
      .toMatchObject({ code: "Track-noSession", reason: expect.stringContaining("node-h") });
  });

  it("a node that does not answer: Track-relayTimeout after the relay timeout", async () => {
    const mute = await node("node-mute", { mute: true });
    extra.push(mute);
    const created = await post(
      mute,
      APP,
      await mute.stack.token("alice"),
      "msg_session_create",
      sessionCreate(),
    );
    const started = Date.now();
    const r = await post(b, APP, await b.stack.token("alice"), "msg_session_keepAlive", {
      session: created.session,
    });
    expect(r.errors?.code).toBe("Track-relayTimeout");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
  });
});
