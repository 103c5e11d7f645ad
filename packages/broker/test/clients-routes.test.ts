import type { AmpUser } from "@amp/auth";
import { RoleTable, silentLogger, TestTokens } from "@amp/test-support";
import { Hono } from "hono";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { brokerClientsRoutes } from "../src/clients-routes.js";
import type { Broker } from "../src/index.js";
import { eventually, startBroker } from "./helpers.js";

const TOPIC = "/org/o/ws/w/app/notes/news";

describe("GET /x/broker/clients (a real broker, real MQTT clients)", () => {
  let tokens: TestTokens;
  let broker: Broker;
  let alice: MqttClient;
  let routes: Hono<{ Variables: { user: AmpUser } }>;
  const asUser = (user: { id: string; root: boolean } | undefined) =>
    routes.request("/x/broker/clients", { headers: user ? { "x-test-user": JSON.stringify(user) } : {} });

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
    // The auth middleware's place: the test names the user in a header.
    routes = new Hono();
    routes.use("*", async (c, next) => {
      const user = c.req.header("x-test-user");
      if (user) c.set("user", { anonymous: false, claims: {}, ...JSON.parse(user) } as AmpUser);
      await next();
    });
    routes.route("/", brokerClientsRoutes({ broker, logger: silentLogger }));
  });
  afterAll(async () => {
    await alice?.endAsync();
    await broker?.close();
  });

  it("root sees each client: its user, since when and its subscriptions", async () => {
    const res = await asUser({ id: "root", root: true });
    expect(res.status).toBe(200);
    const { clients } = (await res.json()) as {
      clients: { clientId: string; user?: string; since: string; subscriptions: string[] }[];
    };
    const phone = clients.find((c) => c.clientId === "alice-phone");
    expect(phone).toMatchObject({ user: "alice", subscriptions: [TOPIC] });
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
