// The mqtt.js load generator the broker benchmarks share: throughput and latency of one topic.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TokenService } from "@amp/auth";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { fileKeyVault } from "../test/fixtures/file-key-vault.js";

/** The broker process the benchmarks start (`node --import tsx <fixture>`, `AMP_AUTH_DIR`). */
export const BROKER_FIXTURE = fileURLToPath(new URL("../test/fixtures/broker-process.ts", import.meta.url));

/**
 * The verifier amp ships (TokenService and its verified-token cache), its keys shared with the
 * broker processes through a file vault in `authDir`, and a root token it signed.
 */
export async function benchAuth(): Promise<{
  authDir: string;
  tokens: TokenService;
  token: string;
  close(): Promise<void>;
}> {
  const authDir = await mkdtemp(join(tmpdir(), "amp-bench-auth-"));
  const tokens = await TokenService.open({
    databaseDir: authDir,
    vault: fileKeyVault(authDir),
    issuer: "amp-bench",
    rootUser: "root",
  });
  const token = await tokens.issue("root", { ttlSeconds: 7200 });
  return {
    authDir,
    tokens,
    token,
    async close() {
      await tokens.close();
      await rm(authDir, { recursive: true, force: true });
    },
  };
}

export const MESSAGES = Number(process.env.AMP_BENCH_MESSAGES ?? 40_000);
export const PAYLOAD_BYTES = 64;
const PAYLOAD = Buffer.alloc(PAYLOAD_BYTES, 0x61);
const TOPIC = "bench/t";

export interface Target {
  name: string;
  url: string;
  port: number;
  pid: number;
  options: IClientOptions;
  /** CONNECT credentials for the raw connection tests. */
  username?: string;
  password?: string;
}

export async function clientsFor(target: Target, n: number, url = target.url): Promise<MqttClient[]> {
  return Promise.all(
    Array.from({ length: n }, () =>
      mqtt.connectAsync(url, { ...target.options, reconnectPeriod: 0, protocolVersion: 4 }),
    ),
  );
}

/** Publishers send `messages` in total; returns deliveries per second and the share delivered. */
export async function throughput(
  target: Target,
  {
    publishers,
    subscribers,
    qos,
    url,
    subscriberUrl = url,
  }: {
    publishers: number;
    subscribers: number;
    qos: 0 | 1;
    url?: string;
    /** Where the subscribers connect, when not where the publishers do (another node). */
    subscriberUrl?: string;
  },
): Promise<{ rate: number; delivered: number }> {
  const subs = await clientsFor(target, subscribers, subscriberUrl);
  const pubs = await clientsFor(target, publishers, url);
  const expected = MESSAGES * subscribers;
  let received = 0;
  let last = 0;
  const allIn = new Promise<void>((resolve) => {
    for (const s of subs) {
      s.on("message", (topic) => {
        if (topic !== TOPIC) return; // a probe of untilRouted
        received++;
        last = performance.now();
        if (received === expected) resolve();
      });
    }
  });
  await Promise.all(subs.map((s) => s.subscribeAsync(TOPIC, { qos })));
  await untilRouted(pubs[0]!, subs);
  const start = performance.now();
  const perPublisher = Math.floor(MESSAGES / publishers);
  await Promise.all(
    pubs.map(async (p) => {
      const window: Array<Promise<unknown>> = [];
      for (let i = 0; i < perPublisher; i++) {
        window.push(p.publishAsync(TOPIC, PAYLOAD, { qos }));
        if (window.length >= 200) await Promise.all(window.splice(0));
      }
      await Promise.all(window);
    }),
  );
  // QoS 0 may drop under overload: stop waiting once nothing arrives for a second
  let seen = -1;
  while (received < expected && received !== seen) {
    seen = received;
    await Promise.race([allIn, new Promise((r) => setTimeout(r, 1000))]);
  }
  await Promise.all([...subs, ...pubs].map((c) => c.endAsync(true)));
  return { rate: received / ((last - start) / 1000), delivered: received / expected };
}

export async function latency(
  target: Target,
  url = target.url,
  subscriberUrl = url,
): Promise<{ p50: number; p99: number }> {
  const [pub] = await clientsFor(target, 1, url);
  const [sub] = await clientsFor(target, 1, subscriberUrl);
  await sub!.subscribeAsync("bench/latency", { qos: 0 });
  await untilRouted(pub!, [sub!]);
  const samples: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const arrived = new Promise<void>((resolve) => {
      const onMessage = (topic: string) => {
        if (topic !== "bench/latency") return;
        sub!.off("message", onMessage);
        resolve();
      };
      sub!.on("message", onMessage);
    });
    const t = performance.now();
    pub!.publish("bench/latency", PAYLOAD, { qos: 0 });
    await arrived;
    samples.push(performance.now() - t);
  }
  await Promise.all([sub!.endAsync(true), pub!.endAsync(true)]);
  samples.sort((a, b) => a - b);
  return {
    p50: samples[Math.floor(samples.length * 0.5)]!,
    p99: samples[Math.floor(samples.length * 0.99)]!,
  };
}

/**
 * Publishes probes until every subscriber has one: across nodes a subscription reaches the
 * publisher's node (through Redis) a moment after its SUBACK, and what is sent before is lost.
 */
async function untilRouted(publisher: MqttClient, subscribers: MqttClient[]): Promise<void> {
  const probe = "bench/probe";
  await Promise.all(subscribers.map((s) => s.subscribeAsync(probe, { qos: 0 })));
  const waiting = new Set(subscribers);
  const heard = (client: MqttClient) => (topic: string) => {
    if (topic === probe) waiting.delete(client);
  };
  const listeners = subscribers.map((s) => [s, heard(s)] as const);
  for (const [s, listener] of listeners) s.on("message", listener);
  for (let i = 0; waiting.size > 0; i++) {
    if (i >= 100) throw new Error("subscriptions never reached the publisher's node");
    publisher.publish(probe, "probe", { qos: 0 });
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  for (const [s, listener] of listeners) s.off("message", listener);
  await Promise.all(subscribers.map((s) => s.unsubscribeAsync(probe)));
}
