import { Broker, BrokerClient, LiveFeed, sessionEventsTopic } from "@amp/broker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LiveSessions, type SessionEvent } from "../src/index.js";
import { buildRemix, logger, root, type Stack, startStack, TrackClient } from "./helpers.js";

const until = async (check: () => boolean, ms = 3000) => {
  for (const start = Date.now(); !check(); await new Promise((r) => setTimeout(r, 10)))
    if (Date.now() - start > ms) throw new Error("timed out");
};

describe("sessions' life on $amp/sessions/<user> (real broker and track server)", () => {
  let broker: Broker;
  let stack: Stack;
  let live: LiveSessions;
  let feed: LiveFeed;
  const clients: BrokerClient[] = [];

  const watch = async (user: string, filter: string, into: SessionEvent[]) => {
    const client = await BrokerClient.connect({
      url: `mqtt://127.0.0.1:${broker.port}`,
      username: user,
      token: await stack.token(user),
    });
    clients.push(client);
    await client.subscribe(filter, (_topic, payload) =>
      into.push(JSON.parse(new TextDecoder().decode(payload))),
    );
    return client;
  };

  beforeAll(async () => {
    stack = await startStack({ remix: [buildRemix("liveapp", new TextEncoder().encode("tim-native"))] });
    await stack.apps.setRules(root, "liveapp", { allowed_run: ["alice", "bob"] });
    broker = new Broker({
      logger,
      port: 0,
      host: "127.0.0.1",
      verifier: { verify: (token) => stack.tokens.verify(token) },
      appRoles: { can: () => false },
    });
    await broker.start();
    feed = new LiveFeed(broker);
    live = new LiveSessions(stack.sessions, feed, 50);
  });
  afterAll(async () => {
    live?.close();
    feed?.close();
    for (const c of clients) await c.close();
    await broker?.close();
    await stack?.close();
  });

  it("created, activity and ended reach the owner and root, never another user", async () => {
    const toAlice: SessionEvent[] = [];
    const toBob: SessionEvent[] = [];
    const toRoot: SessionEvent[] = [];
    await watch("alice", sessionEventsTopic("alice"), toAlice);
    await watch("bob", sessionEventsTopic("bob"), toBob);
    await watch("root", "$amp/sessions/+", toRoot);
    const bob = await watch("bob", sessionEventsTopic("bob"), []);
    await expect(bob.subscribe(sessionEventsTopic("alice"), () => {})).rejects.toMatchObject({
      code: "BROKER_DENIED",
    });

    const track = await TrackClient.open(stack.url, "liveapp", await stack.token("alice"));
    try {
      const { response } = await track.request({ _rmx_type: "msg_session_create", searchExe: true });
      expect(response.errors).toBeUndefined();
      const id = response.session as string;
      await until(() => toAlice.some((e) => e.type === "created"));
      expect(toAlice[0]?.session).toMatchObject({
        id,
        user: "alice",
        app: "liveapp",
        backend: "native",
        node: "local",
      });

      const before = toAlice.length;
      await new Promise((r) => setTimeout(r, 20));
      await track.request({ _rmx_type: "msg_view_load", session: id, module: "home", args: [{}, {}] });
      await until(() => toAlice.slice(before).some((e) => e.type === "activity"));

      await stack.sessions.destroy(id);
      await until(() => toAlice.at(-1)?.type === "ended" && toRoot.at(-1)?.type === "ended");
      expect(toRoot.map((e) => e.type)).toEqual(toAlice.map((e) => e.type));
      expect(toBob).toEqual([]);
    } finally {
      track.close();
    }
  });

  it("nobody watching: nothing is published", async () => {
    for (const c of clients.splice(0)) await c.close();
    await until(() => !feed.watched(sessionEventsTopic("alice")));
    const seen: string[] = [];
    const stop = await broker.subscribe("$amp/#", (topic) => seen.push(topic));
    const { session } = await stack.sessions.create({
      user: { id: "alice", anonymous: false, root: false, claims: {} },
      token: "",
      app: "liveapp",
    });
    await stack.sessions.destroy(session.id);
    await new Promise((r) => setTimeout(r, 100));
    await stop();
    expect(seen).toEqual([]);
  });
});
