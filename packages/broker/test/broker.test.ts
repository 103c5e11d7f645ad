import { connect as netConnect, type Socket } from "node:net";
import { RoleTable, TestTokens } from "@amp/test-support";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Broker, BrokerOptions } from "../src/index.js";
import { connectPacket, eventually, sleep, startBroker } from "./helpers.js";

const APP = "/org/o/ws/w/app/notes";
const VM = "/org/o/ws/w/vm/vm1";

let tokens: TestTokens;
let broker: Broker;
let url: string;
const clients: MqttClient[] = [];

async function client(user?: string, extra: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const opts: mqtt.IClientOptions = { reconnectPeriod: 0, protocolVersion: 4, ...extra };
  if (user) Object.assign(opts, { username: user, password: `Bearer ${await tokens.sign(user)}` });
  const c = await mqtt.connectAsync(url, opts);
  clients.push(c);
  return c;
}

/** Connects and returns the CONNACK refusal code (0 when accepted). */
async function connackCode(opts: mqtt.IClientOptions, target = url): Promise<number> {
  try {
    const c = await mqtt.connectAsync(target, { reconnectPeriod: 0, protocolVersion: 4, ...opts });
    await c.endAsync();
    return 0;
  } catch (error) {
    return (error as { code: number }).code;
  }
}

function raw(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = netConnect(port, "127.0.0.1", () => resolve(socket));
  });
}

function received(c: MqttClient): Array<{ topic: string; payload: string; qos: number; retain: boolean }> {
  const list: Array<{ topic: string; payload: string; qos: number; retain: boolean }> = [];
  c.on("message", (topic, payload, packet) =>
    list.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }),
  );
  return list;
}

beforeAll(async () => {
  tokens = await TestTokens.create();
  const roles = new RoleTable().grant("alice", "notes", "read", "run").grant("bob", "notes", "read");
  broker = await startBroker({ verifier: tokens, appRoles: roles });
  broker.vmOwners.set("vm1", "alice");
  url = `mqtt://127.0.0.1:${broker.port}`;
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker.close();
});

describe("authentication", () => {
  it("accepts a Bearer token or a bare token whose user is the username", async () => {
    const token = await tokens.sign("alice");
    expect(await connackCode({ username: "alice", password: `Bearer ${token}` })).toBe(0);
    expect(await connackCode({ username: "alice", password: token })).toBe(0);
  });

  it("takes the token's email claim (Remix's web runtime sends it) or no username; the token names the user", async () => {
    const token = await tokens.sign("alice", "1h", { email: "alice@example.com" });
    expect(await connackCode({ username: "alice@example.com", password: `Bearer ${token}` })).toBe(0);
    expect(await connackCode({ username: "", password: `Bearer ${token}` })).toBe(0);
    // Another user's email, or an email the token does not carry, is refused.
    expect(await connackCode({ username: "bob@example.com", password: `Bearer ${token}` })).toBe(5);
    const noEmail = await tokens.sign("alice", "1h", { email: "" });
    expect(await connackCode({ username: "alice@example.com", password: `Bearer ${noEmail}` })).toBe(5);
    // Connected by email, the client acts as the token's user: alice's VM topic is hers.
    const c = await mqtt.connectAsync(url, {
      reconnectPeriod: 0,
      protocolVersion: 4,
      username: "alice@example.com",
      password: `Bearer ${token}`,
    });
    clients.push(c);
    const granted = await c.subscribeAsync(`${VM}/output`);
    expect(granted[0]?.qos).toBe(0);
  });

  it("answers CONNACK not authorized for a bad, foreign, expired or mismatched token", async () => {
    const other = await TestTokens.create();
    const expired = await tokens.sign("alice", Math.floor(Date.now() / 1000) - 10);
    expect(await connackCode({ username: "alice", password: "Bearer not-a-jwt" })).toBe(5);
    expect(await connackCode({ username: "alice", password: `Bearer ${await other.sign("alice")}` })).toBe(5);
    expect(await connackCode({ username: "alice", password: `Bearer ${expired}` })).toBe(5);
    expect(await connackCode({ username: "bob", password: `Bearer ${await tokens.sign("alice")}` })).toBe(5);
    expect(await connackCode({ username: "alice" })).toBe(4);
  });

  it("lets anonymous clients connect but never publish", async () => {
    const anon = await client();
    const alice = await client("alice");
    const got = received(alice);
    await alice.subscribeAsync(`${APP}/#`);
    await anon.publishAsync(`${APP}/x`, "from anon", { qos: 1 });
    await alice.publishAsync(`${APP}/x`, "from alice", { qos: 1 });
    await eventually(() => got.length >= 1);
    await sleep(100);
    expect(got.map((m) => m.payload)).toEqual(["from alice"]);
    expect(anon.connected).toBe(true);
  });

  it("refuses anonymous clients when configured", async () => {
    const closed = await startBroker({ verifier: tokens, appRoles: new RoleTable(), allowAnonymous: false });
    try {
      expect(await connackCode({}, `mqtt://127.0.0.1:${closed.port}`)).toBe(5);
    } finally {
      await closed.close();
    }
  });

  it("asks its verifier at every CONNECT: the verifier caches, the broker keeps no cache of its own", async () => {
    let checks = 0;
    const counting = {
      verify: (token: string) => {
        checks++;
        return tokens.verify(token);
      },
    };
    const countingBroker = await startBroker({ verifier: counting, appRoles: new RoleTable() });
    try {
      const target = `mqtt://127.0.0.1:${countingBroker.port}`;
      const creds = { username: "alice", password: `Bearer ${await tokens.sign("alice")}` };
      expect(await connackCode(creds, target)).toBe(0);
      expect(await connackCode(creds, target)).toBe(0);
      expect(checks).toBe(2);
      expect(await connackCode({ ...creds, username: "bob" }, target)).toBe(5); // the user check stays
    } finally {
      await countingBroker.close();
    }
  });

  it("closes a client when its token expires", async () => {
    const token = await tokens.sign("alice", Math.floor(Date.now() / 1000) + 1);
    const c = await client(undefined, { username: "alice", password: `Bearer ${token}` });
    await eventually(() => !c.connected, 4000);
  });
});

describe("client ids belong to one user", () => {
  // Reproduces the takeover: bob's persistent session (QoS 1, clean: false) is queued while he is
  // away; a client that connects with his client id must not receive it or disconnect him.
  it("refuses another user's or an anonymous CONNECT with a client id in use, live or persistent", async () => {
    const bob = await mqtt.connectAsync(url, {
      reconnectPeriod: 0,
      protocolVersion: 4,
      clientId: "bob-laptop",
      clean: false,
      username: "bob",
      password: `Bearer ${await tokens.sign("bob")}`,
    });
    await bob.subscribeAsync(`${APP}/inbox`, { qos: 1 });
    // While bob is connected, nobody else may take his id (that would also disconnect him).
    expect(await connackCode({ clientId: "bob-laptop", clean: true })).toBe(2);
    expect(bob.connected).toBe(true);
    await bob.endAsync();

    await broker.publish(`${APP}/inbox`, new TextEncoder().encode("for bob"), { qos: 1 });
    const anonymousTakeover = await connackCode({ clientId: "bob-laptop", clean: false });
    const aliceTakeover = await connackCode({
      clientId: "bob-laptop",
      clean: false,
      username: "alice",
      password: `Bearer ${await tokens.sign("alice")}`,
    });
    expect([anonymousTakeover, aliceTakeover]).toEqual([2, 2]);

    // Bob himself gets his queued message (listening before CONNACK: it follows right after).
    const back = mqtt.connect(url, {
      reconnectPeriod: 0,
      protocolVersion: 4,
      clientId: "bob-laptop",
      clean: false,
      username: "bob",
      password: `Bearer ${await tokens.sign("bob")}`,
    });
    clients.push(back);
    const got = received(back);
    await eventually(() => got.length === 1);
    expect(got[0]).toMatchObject({ topic: `${APP}/inbox`, payload: "for bob", qos: 1 });
  });

  it("frees an id once its last clean-session connection goes", async () => {
    const alice = await client("alice", { clientId: "shared-kiosk", clean: true });
    expect(await connackCode({ clientId: "shared-kiosk" })).toBe(2);
    await alice.endAsync();
    await eventually(async () => (await connackCode({ clientId: "shared-kiosk" })) === 0);
  });
});

describe("topic ACL", () => {
  it("answers SUBACK 0x80 where the user has no role, no ownership or no root", async () => {
    const alice = await client("alice");
    const bob = await client("bob");
    const root = await client("root");
    const grant = (c: MqttClient, topic: string) =>
      c.subscribeAsync(topic).then(
        (granted) => granted[0]!.qos,
        (error: { packet?: { granted?: number[] } }) => error.packet?.granted?.[0],
      );
    expect(await grant(alice, `${APP}/x`)).toBe(0);
    expect(await grant(bob, `${APP}/x`)).toBe(0);
    expect(await grant(bob, "/org/o/ws/w/app/other/x")).toBe(128);
    expect(await grant(alice, "/org/o/ws/w/app/+/x")).toBe(128);
    expect(await grant(alice, "#")).toBe(128);
    expect(await grant(alice, `${VM}/drvRequest`)).toBe(0);
    expect(await grant(bob, `${VM}/drvRequest`)).toBe(128);
    expect(await grant(alice, "$SYS/#")).toBe(128);
    expect(await grant(alice, "plain/topic")).toBe(128);
    expect(await grant(root, "$SYS/#")).toBe(0);
    expect(await grant(root, "#")).toBe(0);
  });

  it("drops a denied publish, keeps the publisher connected, and delivers allowed ones", async () => {
    const alice = await client("alice");
    const bob = await client("bob");
    const got = received(alice);
    await alice.subscribeAsync(`${APP}/chat`, { qos: 1 });
    await bob.publishAsync(`${APP}/chat`, "bob has no run role", { qos: 1 });
    await bob.publishAsync(`${VM}/drvRequest`, "not bob's VM", { qos: 1 });
    const bobGot = received(bob);
    await bob.subscribeAsync(`${APP}/chat`);
    await alice.publishAsync(`${APP}/chat`, "hello", { qos: 1 });
    await eventually(() => bobGot.length === 1 && got.length === 1);
    expect(got.map((m) => m.payload)).toEqual(["hello"]);
    expect(bob.connected).toBe(true);
  });
});

describe("topic ACL with asynchronous roles", () => {
  it("waits for a role lookup that answers later (as a store-backed registry does)", async () => {
    const table = new RoleTable().grant("alice", "notes", "read", "run");
    const slow = {
      can: (user: Parameters<RoleTable["can"]>[0], app: string, role: Parameters<RoleTable["can"]>[2]) =>
        new Promise<boolean>((resolve) => setTimeout(() => resolve(table.can(user, app, role)), 5)),
    };
    const asyncBroker = await startBroker({ verifier: tokens, appRoles: slow });
    try {
      const target = `mqtt://127.0.0.1:${asyncBroker.port}`;
      const connect = async (user: string) =>
        mqtt.connectAsync(target, {
          reconnectPeriod: 0,
          username: user,
          password: `Bearer ${await tokens.sign(user)}`,
        });
      const alice = await connect("alice");
      const bob = await connect("bob");
      const got = received(alice);
      expect((await alice.subscribeAsync(`${APP}/a`))[0]!.qos).toBe(0);
      await expect(bob.subscribeAsync(`${APP}/a`)).rejects.toMatchObject({ packet: { granted: [128] } });
      await bob.publishAsync(`${APP}/a`, "denied", { qos: 1 });
      await alice.publishAsync(`${APP}/a`, "allowed", { qos: 1 });
      await eventually(() => got.length === 1);
      await sleep(50);
      expect(got.map((m) => m.payload)).toEqual(["allowed"]);
      await Promise.all([alice.endAsync(), bob.endAsync()]);
    } finally {
      await asyncBroker.close();
    }
  });
});

describe("MQTT 3.1.1 strictness", () => {
  it("refuses an empty client id with clean session 0 (CONNACK 2) and accepts it with clean session 1", async () => {
    for (const [clean, code] of [
      [false, 2],
      [true, 0],
    ] as const) {
      const socket = await raw(broker.port!);
      const connack = new Promise<Buffer>((resolve) => socket.once("data", resolve));
      socket.write(connectPacket({ clientId: "", clean }));
      expect([...(await connack)]).toEqual([0x20, 2, 0, code]);
      socket.destroy();
    }
  });

  it("delivers overlapping subscriptions at the highest granted QoS [MQTT-3.3.5-1]", async () => {
    const alice = await client("alice");
    const got = received(alice);
    await alice.subscribeAsync({ [`${APP}/#`]: { qos: 0 }, [`${APP}/+`]: { qos: 1 } });
    await alice.publishAsync(`${APP}/overlap`, "m", { qos: 1 });
    await eventually(() => got.length >= 1);
    await sleep(100);
    expect(Math.max(...got.map((m) => m.qos))).toBe(1);
    // and never above what the matching subscription granted [MQTT-3.8.4-6]
    const bob = await client("bob");
    const bobGot = received(bob);
    await bob.subscribeAsync(`${APP}/+`, { qos: 1 });
    await alice.publishAsync(`${APP}/capped`, "m", { qos: 2 });
    await eventually(() => bobGot.length === 1);
    expect(bobGot[0]!.qos).toBe(1);
  });

  it("keeps retained messages as the spec says", async () => {
    const alice = await client("alice");
    const early = await client("bob");
    const earlyGot = received(early);
    await early.subscribeAsync(`${APP}/state`);
    await alice.publishAsync(`${APP}/state`, "v1", { qos: 1, retain: true });
    await eventually(() => earlyGot.length === 1);
    expect(earlyGot[0]!.retain).toBe(false); // [MQTT-3.3.1-9] live delivery clears the flag

    const late = await client("bob");
    const lateGot = received(late);
    await late.subscribeAsync(`${APP}/state`);
    await eventually(() => lateGot.length === 1);
    expect(lateGot[0]).toMatchObject({ payload: "v1", retain: true }); // [MQTT-3.3.1-6]

    await alice.publishAsync(`${APP}/state`, "", { qos: 1, retain: true }); // [MQTT-3.3.1-10] clears
    await eventually(() => earlyGot.length === 2);
    const after = await client("bob");
    const afterGot = received(after);
    await after.subscribeAsync(`${APP}/state`);
    await sleep(150);
    expect(afterGot).toEqual([]);
  });
});

/** A second broker with `limits` (the shared tokens, no roles), closed after `use`. */
async function withLimits(
  limits: BrokerOptions["limits"],
  use: (broker: Broker) => Promise<void>,
): Promise<void> {
  const limited = await startBroker({ verifier: tokens, appRoles: new RoleTable(), limits });
  try {
    await use(limited);
  } finally {
    await limited.close();
  }
}

describe("limits", () => {
  it("closes a client that sends an oversized packet, and only that client", async () => {
    await withLimits({ maxPacketBytes: 1024 }, async (small) => {
      const opts = { reconnectPeriod: 0, username: "root", password: `Bearer ${await tokens.sign("root")}` };
      const target = `mqtt://127.0.0.1:${small.port}`;
      const big = await mqtt.connectAsync(target, opts);
      const other = await mqtt.connectAsync(target, opts);
      const got = received(other);
      await other.subscribeAsync("t");
      big.publish("t", Buffer.alloc(4096));
      await eventually(() => !big.connected);
      await other.publishAsync("t", "still here");
      await eventually(() => got.some((m) => m.payload === "still here"));
      expect(got.every((m) => m.payload.length < 1024)).toBe(true);
      big.end(true);
      await other.endAsync();
    });
  });

  it("closes a client sending malformed packets without disturbing others", async () => {
    const alice = await client("alice");
    const socket = await raw(broker.port!);
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.write(Buffer.from([0x10, 0x04, 0xde, 0xad, 0xbe, 0xef])); // CONNECT with a broken body
    await closed;
    const socket2 = await raw(broker.port!);
    const closed2 = new Promise<void>((resolve) => socket2.once("close", () => resolve()));
    socket2.write(Buffer.from([0x36, 0x00])); // PUBLISH with both QoS bits set
    await closed2;
    expect((await alice.subscribeAsync(`${APP}/ok`))[0]!.qos).toBe(0);
  });

  it("refuses connections beyond the rate with CONNACK 3", async () => {
    await withLimits({ connectsPerSecond: 5 }, async (limited) => {
      const codes = await Promise.all(
        Array.from({ length: 30 }, () => connackCode({}, `mqtt://127.0.0.1:${limited.port}`)),
      );
      expect(codes.filter((c) => c === 0).length).toBeGreaterThanOrEqual(4);
      // a burst of 5, then 5 a second: even a slow machine refuses most of 30 at once
      expect(codes.filter((c) => c === 3).length).toBeGreaterThanOrEqual(15);
      expect(codes.every((c) => c === 0 || c === 3)).toBe(true);
    });
  });

  it("disconnects a subscriber that stops reading after the drain timeout", async () => {
    await withLimits({ drainTimeoutMs: 300 }, async (slow) => {
      const socket = await raw(slow.port!);
      socket.write(
        connectPacket({
          clientId: "slow",
          clean: true,
          username: "root",
          password: await tokens.sign("root"),
        }),
      );
      socket.write(Buffer.from([0x82, 6, 0, 1, 0, 1, 0x74, 0])); // SUBSCRIBE "t" QoS 0
      await eventually(() => slow.connectedClients === 1);
      await sleep(100);
      // the socket is never read from: a frozen subscriber (it sees no close either, so ask the broker)
      const chunk = Buffer.alloc(256 * 1024);
      for (let i = 0; i < 200; i++) void slow.publish("t", chunk);
      await eventually(() => slow.connectedClients === 0, 5000);
      socket.destroy();
    });
  });
});

describe("in-process publish and subscribe", () => {
  it("lets server components talk to clients without a socket, past the ACL", async () => {
    const alice = await client("alice");
    const got = received(alice);
    await alice.subscribeAsync(`${VM}/drvRequest`);
    const seen: string[] = [];
    const unsubscribe = await broker.subscribe(`${VM}/+`, (topic, payload) =>
      seen.push(`${topic}=${payload}`),
    );
    await broker.publish(`${VM}/drvRequest`, Buffer.from("from server"), { qos: 1 });
    await alice.publishAsync(`${VM}/announce`, "from vm owner", { qos: 1 });
    await eventually(() => got.length === 1 && seen.length === 2);
    expect(got[0]!.payload).toBe("from server");
    expect(seen).toContain(`${VM}/announce=from vm owner`);
    await unsubscribe();
  });

  it("replays retained messages to a new in-process subscriber", async () => {
    await broker.publish(`${APP}/config`, Buffer.from("retained"), { retain: true, qos: 1 });
    const seen: Array<[string, boolean]> = [];
    const unsubscribe = await broker.subscribe(`${APP}/config`, (_t, payload, info) =>
      seen.push([`${payload}`, info.retain]),
    );
    expect(seen).toEqual([["retained", true]]);
    await unsubscribe();
  });
});
