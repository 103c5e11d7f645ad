// MQTT through two amp nodes vs one, in one run (issue 13): QoS 0 fan-in (4 → 1) and round-trip
// latency with the publisher on node A and the subscriber on node B, both brokers on one real
// redis-server (aedes' Redis backends, as `--redis-url`), beside the same load on one node alone
// (the embedded default, no Redis) and on one node of the cluster (Redis in the path, no hop).
//   pnpm --filter @amp/broker bench:cluster   (builds dist/ first; AMP_BENCH_MESSAGES, default 40000)
import type { ChildProcess } from "node:child_process";
import { startRedis } from "@amp/test-support";
import { startProcess, stopProcess } from "../test/helpers.js";
import { BROKER_FIXTURE, benchAuth, latency, MESSAGES, type Target, throughput } from "./load.js";

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function main() {
  const auth = await benchAuth();
  const { authDir, token } = auth;
  const redis = await startRedis();
  const children: ChildProcess[] = [];
  const broker = async (cluster: string | undefined) => {
    const child = await startProcess(
      "node",
      ["--import", "tsx", BROKER_FIXTURE],
      /port=(\d+) ws=(\d+)/,
      20_000,
      {
        AMP_AUTH_DIR: authDir,
        AMP_CONNECT_RATE: "1000000",
        AMP_BROKER_DIST: "1",
        AMP_CLUSTER: cluster ?? "",
      },
    );
    children.push(child);
    const url = `mqtt://127.0.0.1:${child.ready[1]}`;
    return { url, pid: child.pid! };
  };
  try {
    console.log("starting one broker alone and two on one redis-server …");
    const [alone, a, b] = [await broker(undefined), await broker(redis.url), await broker(redis.url)];
    const target = (url: string, pid: number): Target => ({
      name: url,
      url,
      port: Number(new URL(url).port),
      pid,
      options: { username: "root", password: `Bearer ${token}` },
    });
    const one = target(alone.url, alone.pid);
    const nodeA = target(a.url, a.pid);
    const shape = { publishers: 4, subscribers: 1, qos: 0 as const };
    // one unmeasured round each: the brokers are JIT-compiled JavaScript
    await throughput(one, shape);
    await throughput(nodeA, { ...shape, subscriberUrl: b.url });

    const rates = { alone: [] as number[], sameNode: [] as number[], twoNodes: [] as number[] };
    const p50s = { alone: [] as number[], sameNode: [] as number[], twoNodes: [] as number[] };
    for (let round = 1; round <= 3; round++) {
      rates.alone.push((await throughput(one, shape)).rate);
      rates.sameNode.push((await throughput(nodeA, shape)).rate);
      rates.twoNodes.push((await throughput(nodeA, { ...shape, subscriberUrl: b.url })).rate);
      p50s.alone.push((await latency(one)).p50);
      p50s.sameNode.push((await latency(nodeA)).p50);
      p50s.twoNodes.push((await latency(nodeA, a.url, b.url)).p50);
      console.log(
        `round ${round}: QoS 0 fan-in ${fmt(rates.alone.at(-1)!)} / ${fmt(rates.sameNode.at(-1)!)} / ${fmt(rates.twoNodes.at(-1)!)} msg/s; ` +
          `p50 ${p50s.alone.at(-1)!.toFixed(2)} / ${p50s.sameNode.at(-1)!.toFixed(2)} / ${p50s.twoNodes.at(-1)!.toFixed(2)} ms (alone / one cluster node / A → B)`,
      );
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const [r1, r2, r3] = [median(rates.alone), median(rates.sameNode), median(rates.twoNodes)];
    const [l1, l2, l3] = [median(p50s.alone), median(p50s.sameNode), median(p50s.twoNodes)];
    console.log(`\n${MESSAGES} messages of 64 B per round, medians of 3 rounds\n`);
    console.log("| measure | one node, no Redis | one node of the cluster | A → B | A → B / alone |");
    console.log("| --- | --- | --- | --- | --- |");
    console.log(
      `| QoS 0 fan-in (4 → 1) | ${fmt(r1)} msg/s | ${fmt(r2)} msg/s | ${fmt(r3)} msg/s | ${(r3 / r1).toFixed(2)} |`,
    );
    console.log(
      `| latency p50 | ${l1.toFixed(2)} ms | ${l2.toFixed(2)} ms | ${l3.toFixed(2)} ms | ${(l3 / l1).toFixed(2)} |`,
    );
  } finally {
    for (const child of children) await stopProcess(child);
    await redis.stop();
    await auth.close();
  }
}

await main();
