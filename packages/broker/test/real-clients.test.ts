import { createServer, type Server } from "node:http";
import { RoleTable, TestTokens } from "@amp/test-support";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { attachBrokerWebSocket, type Broker, decodeMessage, publishMessage } from "../src/index.js";
import { run, startBroker, startProcess, stopProcess } from "./helpers.js";

const APP = "/org/o/ws/w/app/notes";
const VM = "/org/o/ws/w/vm/vm7";

let tokens: TestTokens;
let broker: Broker;
let http: Server;
let detach: () => void;
let wsUrl: string;

beforeAll(async () => {
  tokens = await TestTokens.create();
  const roles = new RoleTable().grant("alice", "notes", "read", "run").grant("bob", "notes", "read");
  broker = await startBroker({ verifier: tokens, appRoles: roles });
  broker.vmOwners.set("vm7", "alice");
  http = createServer((_req, res) => res.writeHead(404).end());
  detach = attachBrokerWebSocket(http, broker);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  wsUrl = `ws://127.0.0.1:${(http.address() as { port: number }).port}`;
});

afterAll(async () => {
  detach();
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
  await broker.close();
});

/** mosquitto CLI arguments for our broker as `user`. */
async function as(user: string): Promise<string[]> {
  return [
    "-h",
    "127.0.0.1",
    "-p",
    String(broker.port),
    "-V",
    "mqttv311",
    "-u",
    user,
    "-P",
    `Bearer ${await tokens.sign(user)}`,
  ];
}

describe("mosquitto_pub / mosquitto_sub against the TCP port", () => {
  for (const qos of [0, 1, 2]) {
    it(`carries a QoS ${qos} message`, async () => {
      const topic = `${APP}/q${qos}`;
      const sub = await startProcess(
        "stdbuf",
        ["-oL", "mosquitto_sub", ...(await as("bob")), "-t", topic, "-q", String(qos), "-C", "1", "-d"],
        /SUBACK/,
      );
      const output = new Promise<string>((resolve) => {
        let text = "";
        sub.stdout?.on("data", (d) => {
          text += d;
        });
        sub.once("exit", () => resolve(text));
      });
      const pub = await run("mosquitto_pub", [
        ...(await as("alice")),
        "-t",
        topic,
        "-q",
        String(qos),
        "-m",
        `hello q${qos}`,
      ]);
      expect(pub.code).toBe(0);
      const text = await output;
      expect(text).toContain(`hello q${qos}`);
      expect(text).toContain(`q${qos},`); // the PUBLISH arrived at that QoS
    });
  }

  it("keeps a retained message for a later subscriber", async () => {
    const topic = `${APP}/retained`;
    const pub = await run("mosquitto_pub", [
      ...(await as("alice")),
      "-t",
      topic,
      "-q",
      "1",
      "-r",
      "-m",
      "kept",
    ]);
    expect(pub.code).toBe(0);
    const sub = await run("mosquitto_sub", [...(await as("bob")), "-t", topic, "-C", "1", "-F", "%r %p"]);
    expect(sub.stdout.trim()).toBe("1 kept");
  });

  it("refuses a denied topic and a bad token", async () => {
    const denied = await run(
      "mosquitto_sub",
      [...(await as("bob")), "-t", `${VM}/output`, "-C", "1", "-d"],
      5000,
    );
    expect(denied.stdout + denied.stderr).toMatch(/128|denied/i);
    const badToken = await run("mosquitto_pub", [
      ...["-h", "127.0.0.1", "-p", String(broker.port), "-V", "mqttv311"],
      ...["-u", "alice", "-P", "Bearer nope", "-t", `${APP}/x`, "-m", "x"],
    ]);
    expect(badToken.code).not.toBe(0);
    expect(badToken.stderr).toMatch(/not authori[sz]ed/i);
  });

  it("drops a publish to a denied topic while the publisher stays connected", async () => {
    const topic = `${APP}/bob-writes`;
    const sub = await startProcess(
      "stdbuf",
      ["-oL", "mosquitto_sub", ...(await as("alice")), "-t", topic, "-C", "1", "-W", "3", "-d"],
      /SUBACK/,
    );
    const output = new Promise<string>((resolve) => {
      let text = "";
      sub.stdout?.on("data", (d) => {
        text += d;
      });
      sub.once("exit", () => resolve(text));
    });
    const pub = await run("mosquitto_pub", [
      ...(await as("bob")),
      "-t",
      topic,
      "-q",
      "1",
      "-m",
      "not allowed",
    ]);
    expect(pub.code).toBe(0); // acknowledged (MQTT 3.1.1 cannot refuse a publish) …
    expect(await output).not.toContain("not allowed"); // … but never delivered
    await stopProcess(sub);
  });
});

describe("mqtt.js over /x/broker.ws", () => {
  it("connects with a Bearer token and exchanges messages", async () => {
    const alice = await mqtt.connectAsync(`${wsUrl}/x/broker.ws`, {
      username: "alice",
      password: `Bearer ${await tokens.sign("alice")}`,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    const got = new Promise<string>((resolve) => alice.once("message", (_t, p) => resolve(p.toString())));
    await alice.subscribeAsync(`${APP}/ws`);
    await alice.publishAsync(`${APP}/ws`, "over websocket", { qos: 1 });
    expect(await got).toBe("over websocket");
    await alice.endAsync();
  });

  it("leaves other paths alone and refuses a bad token", async () => {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${wsUrl}/elsewhere`, "mqtt");
      ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.once("open", () => resolve(101));
      ws.once("error", () => resolve(-1));
    });
    expect(status).toBe(404);
    await expect(
      mqtt.connectAsync(`${wsUrl}/x/broker.ws`, {
        username: "alice",
        password: "Bearer bad",
        reconnectPeriod: 0,
      }),
    ).rejects.toMatchObject({ code: 5 });
  });

  it("hub pattern: a client under its VM topic receives a server publish with the header", async () => {
    const hub = await mqtt.connectAsync(`${wsUrl}/x/broker.ws`, {
      clientId: "hub-alice",
      username: "alice",
      password: `Bearer ${await tokens.sign("alice")}`,
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    const payload = new Promise<Buffer>((resolve) => hub.once("message", (_t, p) => resolve(p)));
    await hub.subscribeAsync(`${VM}/output`, { qos: 1 });
    await publishMessage(
      broker,
      `${VM}/output`,
      { type: "msg_output", encoding: "json", body: { cell: "$location", v: 1 } },
      { qos: 1 },
    );
    const bytes = await payload;
    const line = bytes.toString().split("\n")[0]!;
    expect(line).toBe(
      `_rmx_type=msg_output,_rmx_encoding=json,_rmx_sender=${broker.clientId},_rmx_route=${broker.clientId}`,
    );
    expect(decodeMessage(bytes)).toMatchObject({ encoding: "json", body: { cell: "$location", v: 1 } });
    await hub.endAsync();
  });
});
