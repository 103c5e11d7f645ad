import type { AmpUser } from "@amp/auth";
import { HttpError } from "@amp/http-edge";
import { RoleTable, silentLogger, TestTokens } from "@amp/test-support";
import { Hono } from "hono";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { brokerClientsRoutes, type NodeClient, nodeClients } from "../src/clients-routes.js";
import type { Broker } from "../src/index.js";
import { eventually, sleep, startBroker } from "./helpers.js";

const TOPIC = "/org/o/ws/w/app/notes/news";

interface Listing {
  clients: NodeClient[];
  unanswered?: number;
}

/** The auth middleware's place: the test names the user in a header. */
function withTestUser(): Hono<{ Variables: { user: AmpUser } }> {
  const routes = new Hono<{ Variables: { user: AmpUser } }>();
  routes.use("*", async (c, next) => {
    const user = c.req.header("x-test-user");
    if (user) c.set("user", { anonymous: false, claims: {}, ...JSON.parse(user) } as AmpUser);
    await next();
  });
  return routes;
}

const request = (routes: Hono<{ Variables: { user: AmpUser } }>, user?: { id: string; root: boolean }) =>
  routes.request("/x/broker/clients", { headers: user ? { "x-test-user": JSON.stringify(user) } : {} });

describe("GET /x/broker/clients (a real broker, real MQTT clients)", () => {
  let tokens: TestTokens;
  let broker: Broker;
  let alice: MqttClient;
  let routes: Hono<{ Variables: { user: AmpUser } }>;
  const asUser = (user: { id: string; root: boolean } | undefined) => request(routes, user);

  beforeAll(async () => {
    tokens = await TestTokens.create();
    broker = await startBroker({
      verifier: tokens,
      appRoles: new RoleTable().grant("alice", "notes", "read"),
    });
    alice = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
      reconnectPeriod: 0,
      protocolVersion: 4,
      clientId: "alice-phone",
      username: "alice",
      password: `Bearer ${await tokens.sign("alice")}`,
    });
    await alice.subscribeAsync(TOPIC);
    routes = withTestUser();
    routes.route("/", brokerClientsRoutes({ broker, node: "node-1", logger: silentLogger }));
  });
  afterAll(async () => {
    await alice?.endAsync();
    await broker?.close();
  });

  it("root sees each client: its user, since when, its subscriptions and this node; no unanswered alone", async () => {
    const res = await asUser({ id: "root", root: true });
    expect(res.status).toBe(200);
    const listing = (await res.json()) as Listing;
    expect(listing).not.toHaveProperty("unanswered");
    const phone = listing.clients.find((c) => c.clientId === "alice-phone");
    expect(phone).toMatchObject({ user: "alice", subscriptions: [TOPIC], node: "node-1" });
    expect(Date.now() - Date.parse(phone!.since)).toBeLessThan(60_000);
  });

  it("a client that leaves is no longer listed", async () => {
    const bob = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
      reconnectPeriod: 0,
      protocolVersion: 4,
      clientId: "bob-laptop",
    });
    const ids = async () =>
      (
        (await (await asUser({ id: "root", root: true })).json()) as { clients: { clientId: string }[] }
      ).clients.map((c) => c.clientId);
    expect(await ids()).toContain("bob-laptop");
    await bob.endAsync();
    await eventually(async () => !(await ids()).includes("bob-laptop"));
  });

  it("bad input: anyone but root is refused (403), without a user too", async () => {
    for (const user of [{ id: "alice", root: false }, undefined]) {
      const res = await asUser(user);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "forbidden" } });
    }
  });
});

describe("GET /x/broker/clients with the other nodes' clients (two real brokers)", () => {
  let tokens: TestTokens;
  let here: Broker;
  let there: Broker;
  const open: MqttClient[] = [];
  let routes: Hono<{ Variables: { user: AmpUser } }>;
  /** The users `others` was asked for. */
  const asked: string[] = [];

  const connect = async (broker: Broker, clientId: string, user: string) => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
      reconnectPeriod: 0,
      protocolVersion: 4,
      clientId,
      username: user,
      password: `Bearer ${await tokens.sign(user)}`,
    });
    open.push(client);
    return client;
  };

  beforeAll(async () => {
    tokens = await TestTokens.create();
    const appRoles = new RoleTable().grant("alice", "notes", "read");
    here = await startBroker({ verifier: tokens, appRoles });
    there = await startBroker({ verifier: tokens, appRoles });
    // Connected in this order, so the merged list (oldest first) interleaves the nodes.
    await connect(here, "first-here", "alice");
    await sleep(5);
    await (await connect(there, "second-there", "alice")).subscribeAsync(TOPIC);
    await sleep(5);
    await connect(here, "third-here", "bob");
    routes = withTestUser();
    routes.route(
      "/",
      brokerClientsRoutes({
        broker: here,
        node: "node-a",
        // What the server's relay does: the other node answers with its own rule for this user.
        others: async (user) => {
          asked.push(user.id);
          return { clients: nodeClients(there, "node-b", user), unanswered: 1 };
        },
        logger: silentLogger,
      }),
    );
  });
  afterAll(async () => {
    for (const client of open) await client.endAsync(true);
    await here?.close();
    await there?.close();
  });

  it("merges every node's clients oldest first, each with its node, and says how many nodes did not answer", async () => {
    const res = await request(routes, { id: "root", root: true });
    expect(res.status).toBe(200);
    const listing = (await res.json()) as Listing;
    expect(listing.unanswered).toBe(1);
    expect(listing.clients.map((c) => [c.clientId, c.node, c.user])).toEqual([
      ["first-here", "node-a", "alice"],
      ["second-there", "node-b", "alice"],
      ["third-here", "node-a", "bob"],
    ]);
    expect(listing.clients[1]?.subscriptions).toEqual([TOPIC]);
    expect(asked).toEqual(["root"]);
  });

  it("bad input: anyone but root is refused (403) before any node is asked; a node asked for another user answers nothing", async () => {
    asked.length = 0;
    for (const user of [{ id: "alice", root: false }, undefined]) {
      expect((await request(routes, user)).status).toBe(403);
    }
    expect(asked).toEqual([]);
    // The answering node's own rule: a relayed question for a non-root user gets no client.
    const alice: AmpUser = { id: "alice", anonymous: false, root: false, claims: {} };
    expect(nodeClients(there, "node-b", alice)).toEqual([]);
    expect(nodeClients(there, "node-b", undefined)).toEqual([]);
    expect(nodeClients(there, "node-b", { ...alice, id: "root", root: true })).toHaveLength(1);
  });

  it("the other nodes cannot be asked: the error of `others` is the answer (504), not this node's list alone", async () => {
    const unreachable = withTestUser();
    unreachable.route(
      "/",
      brokerClientsRoutes({
        broker: here,
        node: "node-a",
        others: async () => {
          throw new HttpError(504, "Track-relayTimeout", "could not publish on amp:track:nodes");
        },
        logger: silentLogger,
      }),
    );
    const res = await request(unreachable, { id: "root", root: true });
    expect(res.status).toBe(504);
    expect(await res.json()).toMatchObject({ error: { code: "Track-relayTimeout" } });
  });
});
