// Broker benchmarks, in one run: our broker (its own process) against mosquitto (Debian) on
// another port, driven by the same mqtt.js load generator. Loopback only; every loop is bounded.
//   pnpm --filter @amp/broker bench   (builds dist/ first; our broker runs from it)
// Env: AMP_BENCH_MESSAGES (per scenario, default 40000), AMP_BENCH_IDLE (idle connections, default
// 10000; needs `ulimit -n` above it), AMP_BENCH_CONNECTS (default 2000).
import type { ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { connect as netConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@amp/test-support";
import { connectPacket, startProcess, stopProcess } from "../test/helpers.js";
import {
  BROKER_FIXTURE,
  benchAuth,
  latency,
  MESSAGES,
  PAYLOAD_BYTES,
  type Target,
  throughput,
} from "./load.js";

const IDLE = Number(process.env.AMP_BENCH_IDLE ?? 10_000);
const CONNECTS = Number(process.env.AMP_BENCH_CONNECTS ?? 2000);

const log = (line: string) => console.log(line);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** Opens raw MQTT connections (cheap on the generator side); resolves when each has its CONNACK. */
async function rawConnections(
  target: Target,
  n: number,
  concurrency: number,
  passwords?: string[],
): Promise<{ sockets: Socket[]; refused: number }> {
  const sockets: Socket[] = [];
  let refused = 0;
  let next = 0;
  const packet = (i: number) =>
    connectPacket({
      clientId: `raw-${i}`,
      clean: true,
      username: target.username,
      password: passwords?.[i] ?? target.password,
    });
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const socket = await new Promise<Socket>((resolve, reject) => {
        const s = netConnect(target.port, "127.0.0.1", () => {
          s.once("data", (d) => (d[3] === 0 ? resolve(s) : reject(new Error(`CONNACK ${d[3]}`))));
          s.write(packet(i));
        });
        s.once("error", reject);
      }).catch(() => {
        refused++;
        return undefined;
      });
      if (socket) sockets.push(socket);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { sockets, refused };
}

async function connectRate(target: Target, passwords?: string[]): Promise<number> {
  const start = performance.now();
  const { sockets, refused } = await rawConnections(target, CONNECTS, 50, passwords);
  const rate = sockets.length / ((performance.now() - start) / 1000);
  for (const s of sockets) s.destroy();
  if (refused) log(`    (${refused} refused)`);
  await new Promise((r) => setTimeout(r, 500));
  return rate;
}

async function idleMemory(target: Target): Promise<{ before: number; after: number; held: number }> {
  const before = rssMiB(target.pid);
  const { sockets } = await rawConnections(target, IDLE, 200);
  await new Promise((r) => setTimeout(r, 1000));
  const after = rssMiB(target.pid);
  for (const s of sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 1000));
  return { before, after, held: sockets.length };
}

async function main() {
  const auth = await benchAuth();
  const { authDir, tokens, token } = auth;
  const fixture = BROKER_FIXTURE;
  const children: ChildProcess[] = [];
  try {
    log("starting our broker and mosquitto …");
    const ours = await startProcess(
      "node",
      [...(process.env.AMP_BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []), "--import", "tsx", fixture],
      /port=(\d+) ws=(\d+)/,
      20_000,
      {
        AMP_AUTH_DIR: authDir,
        AMP_CONNECT_RATE: "1000000", // measure the broker, not its rate limit
        AMP_BROKER_DIST: "1", // the built package, as amp runs it (the bench script builds first)
      },
    );
    children.push(ours);
    const mosquittoPort = await freePort();
    const dir = await mkdtemp(join(tmpdir(), "amp-bench-"));
    const conf = join(dir, "mosquitto.conf");
    writeFileSync(
      conf,
      `listener ${mosquittoPort} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\nmax_inflight_messages 200\nlog_dest stderr\n`,
    );
    const mosquitto = await startProcess("mosquitto", ["-c", conf], /Opening ipv4 listen socket/);
    children.push(mosquitto);

    const oursTarget: Target = {
      name: "amp",
      url: `mqtt://127.0.0.1:${ours.ready[1]}`,
      port: Number(ours.ready[1]),
      pid: ours.pid!,
      options: { username: "root", password: `Bearer ${token}` },
      username: "root",
      password: `Bearer ${token}`,
    };
    const wsUrl = `ws://127.0.0.1:${ours.ready[2]}/x/broker.ws`;
    const peer: Target = {
      name: "mosquitto",
      url: `mqtt://127.0.0.1:${mosquittoPort}`,
      port: mosquittoPort,
      pid: mosquitto.pid!,
      options: {},
    };

    const rows: string[] = [];
    const row = (what: string, a: number, b: number, unit: string) => {
      const line = `| ${what} | ${fmt(a)} ${unit} | ${fmt(b)} ${unit} | ${(a / b).toFixed(2)} |`;
      rows.push(line);
      log(line);
    };
    // one unmeasured round per broker first: our broker is JIT-compiled JavaScript, mosquitto is not
    for (const target of [oursTarget, peer]) {
      await throughput(target, { publishers: 4, subscribers: 1, qos: 0 });
      await throughput(target, { publishers: 1, subscribers: 4, qos: 1 });
    }
    log(`\n${MESSAGES} messages of ${PAYLOAD_BYTES} B per scenario (after one warm-up round each)\n`);
    log("| scenario | amp | mosquitto | amp / mosquitto |\n| --- | --- | --- | --- |");
    for (const [label, shape] of [
      ["QoS 0 fan-in (4 → 1)", { publishers: 4, subscribers: 1, qos: 0 as const }],
      ["QoS 0 fan-out (1 → 4)", { publishers: 1, subscribers: 4, qos: 0 as const }],
      ["QoS 1 fan-in (4 → 1)", { publishers: 4, subscribers: 1, qos: 1 as const }],
      ["QoS 1 fan-out (1 → 4)", { publishers: 1, subscribers: 4, qos: 1 as const }],
    ] as const) {
      const a = await throughput(oursTarget, shape);
      const b = await throughput(peer, shape);
      row(
        `${label}, delivered ${(a.delivered * 100).toFixed(0)}% / ${(b.delivered * 100).toFixed(0)}%`,
        a.rate,
        b.rate,
        "msg/s",
      );
    }
    const la = await latency(oursTarget);
    const lb = await latency(peer);
    log(
      `| latency p50 (QoS 0, one at a time) | ${la.p50.toFixed(3)} ms | ${lb.p50.toFixed(3)} ms | ${(la.p50 / lb.p50).toFixed(2)} |`,
    );
    log(
      `| latency p99 | ${la.p99.toFixed(3)} ms | ${lb.p99.toFixed(3)} ms | ${(la.p99 / lb.p99).toFixed(2)} |`,
    );

    log(
      "\nWebSocket vs TCP (amp only)\n\n| scenario | WebSocket | TCP | WS / TCP |\n| --- | --- | --- | --- |",
    );
    const wsQos0 = await throughput(oursTarget, { publishers: 4, subscribers: 1, qos: 0, url: wsUrl });
    const tcpQos0 = await throughput(oursTarget, { publishers: 4, subscribers: 1, qos: 0 });
    log(
      `| QoS 0 fan-in (4 → 1) | ${fmt(wsQos0.rate)} msg/s | ${fmt(tcpQos0.rate)} msg/s | ${(wsQos0.rate / tcpQos0.rate).toFixed(2)} |`,
    );
    const lws = await latency(oursTarget, wsUrl);
    log(
      `| latency p50 / p99 | ${lws.p50.toFixed(3)} / ${lws.p99.toFixed(3)} ms | ${la.p50.toFixed(3)} / ${la.p99.toFixed(3)} ms | |`,
    );

    log(
      `\nConnections\n\n| scenario | amp (JWT verified) | mosquitto (anonymous) | ratio |\n| --- | --- | --- | --- |`,
    );
    // distinct tokens: every CONNECT pays a signature check; then one token again (reconnects, cached)
    const distinct = await Promise.all(
      Array.from(
        { length: CONNECTS },
        async () => `Bearer ${await tokens.issue("root", { ttlSeconds: 7200 })}`,
      ),
    );
    for (const target of [oursTarget, peer]) {
      const { sockets } = await rawConnections(target, 500, 50); // warm-up (JIT), not measured
      for (const socket of sockets) socket.destroy();
    }
    await new Promise((r) => setTimeout(r, 500));
    const ca = await connectRate(oursTarget, distinct);
    const cb = await connectRate(peer);
    log(
      `| connect rate, ${CONNECTS} connects, 50 at a time, distinct tokens | ${fmt(ca)} /s | ${fmt(cb)} /s | ${(ca / cb).toFixed(2)} |`,
    );
    const cr = await connectRate(oursTarget);
    log(
      `| connect rate, one token (reconnects: verified-token cache) | ${fmt(cr)} /s | ${fmt(cb)} /s | ${(cr / cb).toFixed(2)} |`,
    );
    const ma = await idleMemory(oursTarget);
    const mb = await idleMemory(peer);
    log(
      `| ${IDLE} idle connections: RSS | ${ma.before.toFixed(0)} → ${ma.after.toFixed(0)} MiB (${ma.held} held) | ` +
        `${mb.before.toFixed(0)} → ${mb.after.toFixed(0)} MiB (${mb.held} held) | ${(ma.after / mb.after).toFixed(1)} |`,
    );
    const qos0Ratio = Math.min(...rows.slice(0, 2).map((r) => Number(r.split("|")[4])));
    log(
      `\ntargets: QoS 0 ≥ 0.60 of mosquitto: ${qos0Ratio >= 0.6 ? "met" : "MISSED"} (${qos0Ratio.toFixed(2)}); ` +
        `connect rate ≥ 1000/s: ${ca >= 1000 ? "met" : "MISSED"} (${fmt(ca)} distinct, ${fmt(cr)} cached); 10k idle ≤ 1536 MiB: ${ma.after <= 1536 && ma.held >= IDLE ? "met" : "MISSED"}`,
    );
  } finally {
    for (const child of children) await stopProcess(child);
    await auth.close();
  }
}

await main();
