import { RoleTable, TestTokens } from "@amp/test-support";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BROKER_CLIENTS_TOPIC,
  type Broker,
  LiveFeed,
  logsTopic,
  sessionEventsTopic,
  TopicAcl,
  VmOwners,
} from "../src/index.js";
import { eventually, sleep, startBroker } from "./helpers.js";

const REFUSED = 128;

describe("the $amp/… live feed on a real broker", () => {
  let tokens: TestTokens;
  let broker: Broker;
  let feed: LiveFeed;
  const open: MqttClient[] = [];

  const connect = async (user: string) => {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
      reconnectPeriod: 0,
      protocolVersion: 4,
      clientId: `${user}-${open.length}`,
      username: user,
      password: `Bearer ${await tokens.sign(user)}`,
    });
    open.push(client);
    return client;
  };
  // mqtt.js rejects a SUBACK of 0x80 (refused)
  const qos = (client: MqttClient, filter: string) =>
    client.subscribeAsync(filter).then(
      (granted) => granted[0]?.qos,
      () => REFUSED,
    );

  beforeAll(async () => {
    tokens = await TestTokens.create();
    broker = await startBroker({ verifier: tokens, appRoles: new RoleTable() });
    feed = new LiveFeed(broker, { node: "node-1" });
  });

  afterAll(async () => {
    for (const client of open) await client.endAsync(true);
    feed?.close();
    await broker?.close();
  });

  it("a user reads only their own sessions' events; logs and clients are root's; wildcards are refused", async () => {
    const alice = await connect("alice");
    expect(await qos(alice, sessionEventsTopic("alice"))).toBe(0);
    for (const filter of [
      sessionEventsTopic("bob"),
      "$amp/sessions/+",
      "$amp/sessions/#",
      "$amp/#",
      `${sessionEventsTopic("alice")}/#`,
      "$amp/logs/#",
      logsTopic("info"),
      BROKER_CLIENTS_TOPIC,
    ])
      expect(await qos(alice, filter), filter).toBe(REFUSED);
    const root = await connect("root");
    expect(await qos(root, "$amp/#")).toBe(0);
    await alice.endAsync();
    await root.endAsync();
  });

  it("events reach only their watchers, and only while watched", async () => {
    const alice = await connect("alice");
    const root = await connect("root");
    const toAlice: string[] = [];
    const toRoot: string[] = [];
    alice.on("message", (topic, payload) => toAlice.push(`${topic} ${payload}`));
    root.on("message", (topic, payload) => {
      if (topic !== BROKER_CLIENTS_TOPIC) toRoot.push(`${topic} ${payload}`);
    });
    await eventually(() => !feed.watchedAtAll); // the first test's clients have gone
    expect(feed.watched(sessionEventsTopic("alice"))).toBe(false);
    await qos(alice, sessionEventsTopic("alice"));
    expect(feed.watchedAtAll).toBe(true);
    await qos(root, "$amp/sessions/+");
    expect(feed.watched(sessionEventsTopic("alice"))).toBe(true);
    expect(feed.watched(logsTopic("info"))).toBe(false);
    feed.publish(sessionEventsTopic("alice"), { type: "created" });
    feed.publish(sessionEventsTopic("bob"), { type: "created" });
    await eventually(() => toRoot.length === 2);
    await sleep(100);
    expect(toAlice).toEqual(['$amp/sessions/alice {"type":"created"}']);
    // a user id with MQTT's special characters stays one level
    expect(sessionEventsTopic("a/b+#")).toBe("$amp/sessions/a%2Fb%2B%23");
  });

  it("a client connecting, subscribing and going shows on $amp/broker/clients", async () => {
    const root = await connect("root");
    const seen: Array<{
      type: string;
      client: { clientId: string; user?: string; subscriptions: string[]; node: string };
    }> = [];
    root.on("message", (topic, payload) => {
      if (topic === BROKER_CLIENTS_TOPIC) seen.push(JSON.parse(`${payload}`));
    });
    await qos(root, BROKER_CLIENTS_TOPIC);
    const carol = await connect("carol");
    const id = carol.options.clientId;
    await qos(carol, sessionEventsTopic("carol"));
    await carol.endAsync();
    await eventually(() => seen.some((e) => e.type === "disconnected" && e.client.clientId === id));
    const carols = seen.filter((e) => e.client.clientId === id);
    expect(carols.map((e) => e.type)).toEqual(["connected", "subscribed", "disconnected"]);
    expect(carols[0]?.client.user).toBe("carol");
    // Named by its node, as `GET /x/broker/clients` lists it.
    expect(carols.map((e) => e.client.node)).toEqual(["node-1", "node-1", "node-1"]);
    expect(carols[1]?.client.subscriptions).toEqual([sessionEventsTopic("carol")]);
  });

  it("no client publishes on $amp/…, root neither: the message is dropped", async () => {
    const root = await connect("root");
    const alice = await connect("alice");
    const got: string[] = [];
    alice.on("message", (topic) => got.push(topic));
    await qos(alice, sessionEventsTopic("alice"));
    await root.publishAsync(sessionEventsTopic("alice"), '{"type":"ended","forged":true}', { qos: 1 });
    await alice.publishAsync(sessionEventsTopic("alice"), '{"type":"ended","forged":true}', { qos: 1 });
    await sleep(200);
    expect(got).toEqual([]);
    // the in-process server may
    await broker.publish(sessionEventsTopic("alice"), new TextEncoder().encode("{}"));
    await eventually(() => got.length === 1);
  });
});

describe("TopicAcl on $amp/…", () => {
  const acl = new TopicAcl({ appRoles: new RoleTable(), vmOwners: new VmOwners() });
  const user = { id: "alice", anonymous: false, root: false, claims: {} };
  it("refuses anonymous users their 'own' topic and everyone publishing", () => {
    expect(acl.allows({ ...user, anonymous: true }, "subscribe", sessionEventsTopic("alice"))).toBe(false);
    expect(acl.allows({ ...user, root: true }, "publish", logsTopic("info"))).toBe(false);
    expect(acl.allows({ ...user, root: true }, "subscribe", logsTopic("info"))).toBe(true);
  });
});
