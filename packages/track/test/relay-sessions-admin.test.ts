import { authMiddleware } from "@amp/auth";
import { Hono } from "hono";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionsRoutes } from "../src/index.js";
import { buildRemix, logger, root, TrackClient } from "./helpers.js";
import { redisFixture } from "./redis-fixture.js";
import { type RelayNode, type RelayNodeOptions, startRelayNode } from "./relay-nodes.js";

const redis = redisFixture();
const APP = "app1";
const PREFIX = "sessions-admin-test:";
const remix = buildRemix(APP, new TextEncoder().encode("tim-native"));

interface Listed {
  id: string;
  user: string;
  node: string;
  createdAt: string;
}

/** A node with the sessions admin routes mounted as the server does, relay included. */
interface AdminNode extends RelayNode {
  call(user: string, method: "GET" | "DELETE", path: string): Promise<Response>;
  list(user: string): Promise<{ sessions: Listed[]; unanswered?: number }>;
}

describe("GET /x/sessions and DELETE /x/sessions/{id} across nodes (native backend, real Redis)", () => {
  let a: AdminNode;
  let b: AdminNode;
  /** What A's relay warns about. */
  const warnings: string[] = [];

  async function node(id: string, options: Partial<RelayNodeOptions> = {}): Promise<AdminNode> {
    const started = await startRelayNode(id, {
      redisUrl: redis.url,
      prefix: PREFIX,
      remix: [remix],
      ...options,
    });
    await started.stack.apps.setRules(root, APP, { allowed_run: ["alice", "bob"] });
    const routes = new Hono();
    routes.use("*", authMiddleware({ tokens: started.stack.tokens }));
    routes.route("/", sessionsRoutes({ sessions: started.stack.sessions, relay: started.relay, logger }));
    const call = async (user: string, method: "GET" | "DELETE", path: string) =>
      routes.request(path, {
        method,
        headers: { authorization: `Bearer ${await started.stack.token(user)}` },
      });
    return {
      ...started,
      call,
      async list(user) {
        const res = await call(user, "GET", "/x/sessions");
        expect(res.status).toBe(200);
        return (await res.json()) as { sessions: Listed[]; unanswered?: number };
      },
    };
  }

  /** A session of `user` created on `on` over a WebSocket, which stays open to hear what follows. */
  async function open(on: RelayNode, user: string) {
    const client = await TrackClient.open(on.stack.url, APP, await on.stack.token(user));
    const { response } = await client.request({ _rmx_type: "msg_session_create", searchExe: true });
    expect(response.errors).toBeUndefined();
    return { client, session: response.session as string };
  }

  beforeAll(async () => {
    const captured = pino({ level: "warn" }, { write: (line: string) => warnings.push(line) });
    a = await node("node-a", { logger: captured });
    b = await node("node-b", { relayTimeoutMs: 1_000 });
  }, 30_000);

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("DELETE through B ends A's session for its owner (204; its client hears 'no such session'); another user's is 404 and lives on", async () => {
    const alice = await open(a, "alice");
    try {
      const refused = await b.call("bob", "DELETE", `/x/sessions/${alice.session}`);
      expect(refused.status).toBe(404);
      expect(await refused.json()).toMatchObject({ error: { code: "Track-noSession" } });
      expect(a.stack.sessions.find(alice.session)).toBeDefined();

      expect((await b.call("alice", "DELETE", `/x/sessions/${alice.session}`)).status).toBe(204);
      expect(a.stack.sessions.find(alice.session)).toBeUndefined();
      const after = await alice.client.request({
        _rmx_type: "msg_session_keepAlive",
        session: alice.session,
      });
      expect(after.response.errors).toMatchObject({ code: "Track-noSession", message: "no such session" });
      // Ended, it is nowhere: the directory forgot it, so B answers at once.
      expect((await b.call("alice", "DELETE", `/x/sessions/${alice.session}`)).status).toBe(404);
    } finally {
      alice.client.close();
    }
  });

  it("root ends anyone's session through another node; an unknown id is 404", async () => {
    const bob = await open(a, "bob");
    try {
      expect((await b.call("root", "DELETE", `/x/sessions/${bob.session}`)).status).toBe(204);
      expect(a.stack.sessions.find(bob.session)).toBeUndefined();
      expect((await b.call("root", "DELETE", "/x/sessions/no-such-id")).status).toBe(404);
    } finally {
      bob.client.close();
    }
  });

  it("a session whose node is gone: 404 Track-noSession at once", async () => {
    const c = await node("node-c");
    const created = await open(c, "alice");
    created.client.close();
    c.kill();
    try {
      const res = await b.call("alice", "DELETE", `/x/sessions/${created.session}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "Track-noSession" } });
      // Its PUBLISH reached nobody, so B dropped the entry before C's heartbeat expired.
      expect(await b.directory.lookup(created.session)).toBeUndefined();
    } finally {
      await c.close();
    }
  });

  it("GET through either node lists every node's sessions with their node, oldest first: root sees all, a user only their own", async () => {
    const alice = await open(a, "alice");
    const bob = await open(b, "bob");
    try {
      for (const via of [a, b]) {
        const all = await via.list("root");
        expect(all.unanswered).toBe(0);
        expect(all.sessions.map((s) => [s.id, s.user, s.node])).toEqual([
          [alice.session, "alice", "node-a"],
          [bob.session, "bob", "node-b"],
        ]);
        expect(all.sessions[0]!.createdAt <= all.sessions[1]!.createdAt).toBe(true);
        const own = await via.list("alice");
        expect(own).toEqual({ unanswered: 0, sessions: [expect.objectContaining({ id: alice.session })] });
        expect((await via.list("bob")).sessions.map((s) => s.id)).toEqual([bob.session]);
      }
    } finally {
      alice.client.close();
      bob.client.close();
      await a.stack.sessions.destroy(alice.session);
      await b.stack.sessions.destroy(bob.session);
    }
  });

  it("a node that does not answer: GET lists the others within the list timeout and counts it unanswered; DELETE of its session is Track-relayTimeout", async () => {
    const mute = await node("node-mute", { mute: true });
    const alice = await open(a, "alice");
    const silent = await open(mute, "alice");
    try {
      const started = Date.now();
      const listed = await b.list("alice");
      const waited = Date.now() - started;
      expect(listed.unanswered).toBe(1);
      expect(listed.sessions.map((s) => s.id)).toEqual([alice.session]);
      expect(waited).toBeGreaterThanOrEqual(1_900);
      expect(waited).toBeLessThan(4_000);

      const res = await b.call("alice", "DELETE", `/x/sessions/${silent.session}`);
      expect(res.status).toBe(504);
      expect(await res.json()).toMatchObject({ error: { code: "Track-relayTimeout" } });
      expect(mute.stack.sessions.find(silent.session)).toBeDefined();
    } finally {
      alice.client.close();
      silent.client.close();
      await a.stack.sessions.destroy(alice.session);
      await mute.close();
    }
    // Gone, it is no longer waited for.
    expect((await b.list("root")).unanswered).toBe(0);
  });

  it("drops malformed end/ask/told messages on the node's and the broadcast channel with a warning, and keeps answering", async () => {
    const alice = await open(a, "alice");
    const intruder = redis.connection();
    const user = { id: "root", anonymous: false, root: true, claims: {} };
    const junk: [string, string][] = [
      ["relay:node-a", "not json"],
      [
        "relay:node-a",
        JSON.stringify({ k: "end", id: "1", from: "node-b", user: { id: "root" }, session: "x" }),
      ],
      ["relay:node-a", JSON.stringify({ k: "end", id: "1", from: "node-b", user, session: "" })],
      // A question for every node is taken only on the broadcast channel, and an end only on one's own.
      ["relay:node-a", JSON.stringify({ k: "ask", id: "1", from: "node-b", topic: "sessions", user })],
      ["nodes", JSON.stringify({ k: "end", id: "1", from: "node-b", user, session: alice.session })],
      [
        "nodes",
        JSON.stringify({ k: "ask", id: "1", from: "node-b", topic: "sessions", user: { ...user, id: "" } }),
      ],
      ["nodes", JSON.stringify({ k: "ask", id: "1" })],
      ["nodes", "[]"],
      [
        "relay:node-a",
        JSON.stringify({ k: "told", id: "1", node: "node-b", topic: "sessions", items: [{ id: "x" }] }),
      ],
      // A question's topic is a short lower-case name; an answer goes to the asker's own channel,
      // about a topic the node knows, with at most 50,000 items.
      ["nodes", JSON.stringify({ k: "ask", id: "1", from: "node-b", topic: "Sessions!", user })],
      ["nodes", JSON.stringify({ k: "ask", id: "1", from: "node-b", topic: "s".repeat(41), user })],
      ["nodes", JSON.stringify({ k: "told", id: "1", node: "node-b", topic: "sessions", items: [] })],
      [
        "relay:node-a",
        JSON.stringify({ k: "told", id: "1", node: "node-b", topic: "no-such-topic", items: [] }),
      ],
      ["relay:node-a", JSON.stringify({ k: "told", id: "1", node: "node-b", topic: "sessions", items: {} })],
      [
        "relay:node-a",
        JSON.stringify({
          k: "told",
          id: "1",
          node: "node-b",
          topic: "sessions",
          items: Array(50_001).fill(0),
        }),
      ],
    ];
    const before = warnings.length;
    try {
      for (const [channel, text] of junk) await intruder.publish(`${PREFIX}${channel}`, text);
      await expect.poll(() => warnings.length - before).toBe(junk.length);
      expect(warnings.slice(before).map((l) => JSON.parse(l).msg)).toEqual(
        junk.map(() => "bad relay message; dropped"),
      );
      // Nothing ran: the session lives, and both routes still work through B.
      expect(a.stack.sessions.find(alice.session)).toBeDefined();
      expect((await b.list("alice")).sessions.map((s) => s.id)).toEqual([alice.session]);
      expect((await b.call("alice", "DELETE", `/x/sessions/${alice.session}`)).status).toBe(204);
    } finally {
      alice.client.close();
    }
  });
});
