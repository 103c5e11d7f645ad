import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort, RoleTable, startRedis, TestTokens } from "@amp/test-support";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, redisOptions } from "../src/index.js";
import { eventually, sleep, startBroker, startProcess, stopProcess } from "./helpers.js";

const fixture = fileURLToPath(new URL("./fixtures/broker-process.ts", import.meta.url));

let tokens: TestTokens;
let redis: ChildProcess;
let cluster: string;
let nodeA: ChildProcess;
let portA: number;
let brokerB: Broker;
const clients: MqttClient[] = [];

/** A broker process on `cluster` (or another Redis URL, with `env` such as NODE_EXTRA_CA_CERTS). */
async function startNode(
  url = cluster,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; port: number }> {
  const child = await startProcess("node", ["--import", "tsx", fixture], /port=(\d+)/, 20_000, {
    AMP_CLUSTER: url,
    AMP_JWK: JSON.stringify(await tokens.publicJwk()),
    ...env,
  });
  return { child, port: Number(child.ready[1]) };
}

async function root(port: number, extra: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    username: "root",
    password: `Bearer ${await tokens.sign("root")}`,
    reconnectPeriod: 0,
    protocolVersion: 4,
    ...extra,
  });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  tokens = await TestTokens.create();
  const redisPort = await freePort();
  redis = await startProcess(
    "redis-server",
    ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    /Ready to accept connections/,
  );
  cluster = `redis://127.0.0.1:${redisPort}`;
  brokerB = await startBroker({ verifier: tokens, appRoles: new RoleTable(), cluster });
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await stopProcess(nodeA, "SIGKILL");
  await brokerB?.close();
  await stopProcess(redis);
});

describe("Redis cluster", () => {
  it("routes a message from a publisher on one broker to a subscriber on another, and shares retained messages", async () => {
    ({ child: nodeA, port: portA } = await startNode());
    const subA = await root(portA);
    const got: string[] = [];
    subA.on("message", (_t, p) => got.push(p.toString()));
    await subA.subscribeAsync("cluster/live", { qos: 1 });
    const pubB = await root(brokerB.port!);
    await eventually(async () => {
      await pubB.publishAsync("cluster/live", "across", { qos: 1 });
      return got.includes("across");
    }, 10_000);

    await pubB.publishAsync("cluster/retained", "kept", { qos: 1, retain: true });
    for (const port of [portA, brokerB.port!]) {
      const late = await root(port);
      const seen = new Promise<[string, boolean]>((resolve) =>
        late.once("message", (_t, p, pk) => resolve([`${p}`, pk.retain])),
      );
      await late.subscribeAsync("cluster/retained");
      expect(await seen).toEqual(["kept", true]);
    }
  });

  it("loses no QoS 1 message acknowledged to the publisher when the subscriber's broker is killed", async () => {
    const durable = { clientId: "durable-sub", clean: false };
    const sub = await root(portA, durable);
    const got = new Set<number>();
    sub.on("message", (_t, p) => got.add(Number(p.toString())));
    await sub.subscribeAsync("cluster/durable", { qos: 1 });
    const pub = await root(brokerB.port!);
    const total = 300;
    const acked: number[] = [];
    for (let i = 0; i < total; i++) {
      await pub.publishAsync("cluster/durable", String(i), { qos: 1 });
      acked.push(i);
      if (i === 100) {
        await eventually(() => got.size > 20, 10_000);
        nodeA.kill("SIGKILL"); // a crash: no goodbye to Redis or the client
        sub.end(true);
      }
    }
    // Known aedes gap (README "Gaps"): it sends PUBACK before the offline enqueue reaches Redis, so a
    // session restored within milliseconds of the last acknowledged publish can miss the last few
    // (seen: 2–3 of 300, about 1 run in 4). Let that window close; this test is about the broker kill.
    await sleep(500);
    const resumed = await root(brokerB.port!, durable);
    resumed.on("message", (_t, p) => got.add(Number(p.toString())));
    await eventually(() => got.size === total, 15_000).catch(() => {});
    expect(acked.filter((i) => !got.has(i))).toEqual([]);
  });
});

describe("Redis cluster over TLS (rediss://)", () => {
  it("reads a rediss:// URL as TLS verified for its host, which is sent as SNI unless it is an IP address", () => {
    expect(redisOptions("rediss://user:p%40ss@cache.internal:6380/2")).toEqual({
      host: "cache.internal",
      port: 6380,
      username: "user",
      password: "p@ss",
      db: 2,
      tls: { servername: "cache.internal" },
    });
    expect(redisOptions("rediss://10.0.0.5")).toMatchObject({ host: "10.0.0.5", port: 6379, tls: {} });
    expect(redisOptions("rediss://[::1]:6380")).toMatchObject({ host: "::1", tls: {} });
    expect(redisOptions("redis://cache.internal")).not.toHaveProperty("tls");
    expect(() => redisOptions("http://cache.internal")).toThrow(/redis:\/\/… or rediss:\/\/…, got http:/);
  });

  it("routes a message between two brokers on a TLS-only Redis whose CA they trust (NODE_EXTRA_CA_CERTS)", async () => {
    const redis = await startRedis({ tls: true });
    const nodes: ChildProcess[] = [];
    try {
      const trust = { NODE_EXTRA_CA_CERTS: redis.caFile! };
      const [one, two] = [await startNode(redis.url, trust), await startNode(redis.url, trust)];
      nodes.push(one.child, two.child);
      const sub = await root(one.port);
      const got: string[] = [];
      sub.on("message", (_t, p) => got.push(p.toString()));
      await sub.subscribeAsync("cluster/tls", { qos: 1 });
      const pub = await root(two.port);
      await eventually(async () => {
        await pub.publishAsync("cluster/tls", "over-tls", { qos: 1 });
        return got.includes("over-tls");
      }, 10_000);
    } finally {
      for (const node of nodes) await stopProcess(node, "SIGKILL");
      await redis.stop();
    }
  });
});
