import { RoleTable, TestTokens } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Broker, BrokerClient, type RemixMessage, serveRequests } from "../src/index.js";
import { eventually, sleep, startBroker } from "./helpers.js";

const APP = "/org/o/ws/w/app/notes";

let tokens: TestTokens;
let roles: RoleTable;
let broker: Broker;
let url: string;

beforeAll(async () => {
  tokens = await TestTokens.create();
  roles = new RoleTable().grant("alice", "notes", "read", "run").grant("bob", "notes", "read");
  broker = await startBroker({ verifier: tokens, appRoles: roles });
  url = `mqtt://127.0.0.1:${broker.port}`;
});

afterAll(() => broker.close());

async function connectAs(user: string, extra: Partial<Parameters<typeof BrokerClient.connect>[0]> = {}) {
  return BrokerClient.connect({ url, username: user, token: await tokens.sign(user), ...extra });
}

describe("BrokerClient", () => {
  it("publishes and subscribes typed messages with the header, dropping its own echoes", async () => {
    const alice = await connectAs("alice");
    const bob = await connectAs("bob");
    const bobGot: RemixMessage[] = [];
    const aliceGot: RemixMessage[] = [];
    await bob.subscribeMessages(`${APP}/typed`, (_t, m) => bobGot.push(m), { qos: 1 });
    await alice.subscribeMessages(`${APP}/typed`, (_t, m) => aliceGot.push(m), { qos: 1 });
    await alice.publishMessage(
      `${APP}/typed`,
      { type: "msg_note", encoding: "json", body: { n: 1 } },
      { qos: 1 },
    );
    await alice.publishMessage(
      `${APP}/typed`,
      { type: "msg_blob", encoding: "binary", body: new Uint8Array([1, 2]) },
      { qos: 1 },
    );
    await eventually(() => bobGot.length === 2);
    expect(bobGot[0]).toMatchObject({
      type: "msg_note",
      sender: alice.clientId,
      route: [alice.clientId],
      body: { n: 1 },
    });
    expect([...(bobGot[1]!.body as Uint8Array)]).toEqual([1, 2]);
    await sleep(100);
    expect(aliceGot).toEqual([]); // its own echo
    await Promise.all([alice.close(), bob.close()]);
  });

  it("reports refusals as typed errors", async () => {
    await expect(BrokerClient.connect({ url, username: "alice", token: "bad" })).rejects.toMatchObject({
      code: "BROKER_DENIED",
    });
    const bob = await connectAs("bob");
    await expect(bob.subscribe("/org/o/ws/w/vm/x/output", () => {})).rejects.toMatchObject({
      code: "BROKER_DENIED",
    });
    await bob.close();
  });

  it("re-authenticates with a renewed token and keeps its subscriptions", async () => {
    const shortLived = await tokens.sign("alice", Math.floor(Date.now() / 1000) + 2);
    const alice = await BrokerClient.connect({ url, username: "alice", token: shortLived });
    const got: string[] = [];
    await alice.subscribe(`${APP}/renew`, (_t, p) => got.push(p.toString()), { qos: 1 });
    await alice.renewToken(await tokens.sign("alice"));
    await sleep(2500); // past the first token's expiry: the broker would have closed the old connection
    expect(alice.connected).toBe(true);
    await broker.publish(`${APP}/renew`, Buffer.from("after renewal"), { qos: 1 });
    await eventually(() => got.includes("after renewal"));
    await alice.close();
  });

  it("reconnects with backoff after the broker restarts and resubscribes", async () => {
    const port = broker.port!;
    const restartable = await startBroker({ verifier: tokens, appRoles: roles, port: 0 });
    const alice = await BrokerClient.connect({
      url: `mqtt://127.0.0.1:${restartable.port}`,
      username: "alice",
      token: await tokens.sign("alice"),
      reconnect: { minMs: 50, maxMs: 400 },
    });
    const got: string[] = [];
    await alice.subscribe(`${APP}/again`, (_t, p) => got.push(p.toString()));
    const oldPort = restartable.port!;
    await restartable.close();
    await eventually(() => !alice.connected);
    await sleep(300); // a few failed attempts, backing off
    const revived = await startBroker({ verifier: tokens, appRoles: roles, port: oldPort });
    try {
      await eventually(() => alice.connected, 5000);
      await sleep(100);
      await revived.publish(`${APP}/again`, Buffer.from("back"));
      await eventually(() => got.includes("back"));
    } finally {
      await alice.close();
      await revived.close();
    }
    expect(port).toBe(broker.port);
  });

  it("makes requests with a reply topic and correlation id, with timeout and cancellation", async () => {
    const stop = await serveRequests(broker, `${APP}/echo`, async (request) => ({
      type: "msg_echo_reply",
      encoding: "json",
      body: { echoed: request.encoding === "json" ? request.body : null },
    }));
    const alice = await connectAs("alice", { inbox: `${APP}/inbox` });
    const reply = await alice.request(
      `${APP}/echo`,
      { type: "msg_echo", encoding: "json", body: { x: 42 } },
      { timeoutMs: 3000 },
    );
    expect(reply).toMatchObject({ type: "msg_echo_reply", body: { echoed: { x: 42 } } });
    const replies = await Promise.all(
      [1, 2, 3].map((n) => alice.request(`${APP}/echo`, { type: "msg_echo", encoding: "json", body: n })),
    );
    expect(replies.map((r) => r.body)).toEqual([{ echoed: 1 }, { echoed: 2 }, { echoed: 3 }]);
    await stop();

    await expect(
      alice.request(`${APP}/nobody`, { type: "msg_x", encoding: "text", body: "?" }, { timeoutMs: 200 }),
    ).rejects.toMatchObject({ code: "BROKER_TIMEOUT" });
    const controller = new AbortController();
    const pending = alice.request(
      `${APP}/nobody`,
      { type: "msg_x", encoding: "text", body: "?" },
      { signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ code: "BROKER_CANCELLED" });
    await alice.close();
  });
});
