import { RoleTable, TestTokens } from "@amp/test-support";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Broker } from "../src/index.js";
import { eventually, sleep, startBroker } from "./helpers.js";

const VM = "/org/o/ws/w/vm/vm-grant";
const SESSION = "/org/o/ws/w/app/notes/session/s-grant";

describe("a VM's or a session's subscriptions end with its grant", () => {
  let tokens: TestTokens;
  let broker: Broker;
  let alice: MqttClient;
  const got: string[] = [];

  beforeAll(async () => {
    tokens = await TestTokens.create();
    broker = await startBroker({
      verifier: tokens,
      appRoles: new RoleTable().grant("alice", "notes", "read"),
    });
    broker.vmOwners.set("vm-grant", "alice");
    broker.sessionOwners.set("s-grant", "alice");
    alice = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, {
      reconnectPeriod: 0,
      protocolVersion: 4,
      username: "alice",
      password: `Bearer ${await tokens.sign("alice")}`,
    });
    alice.on("message", (topic) => got.push(topic));
    const granted = await alice.subscribeAsync([`${VM}/output`, `${SESSION}/control`]);
    expect(granted.map((g) => g.qos)).toEqual([0, 0]);
  });

  afterAll(async () => {
    await alice?.endAsync(true);
    await broker?.close();
  });

  const say = (topic: string) => broker.publish(topic, new TextEncoder().encode("x"));

  it("delivers while the grant lives, and nothing once it ended, even to a new owner's VM of that id", async () => {
    await say(`${VM}/output`);
    await say(`${SESSION}/control`);
    await eventually(() => got.length === 2);

    broker.vmOwners.delete("vm-grant");
    broker.sessionOwners.delete("s-grant");
    // The server's last word right after the end still reaches the owner...
    await say(`${VM}/output`);
    await eventually(() => got.length === 3);
    // ...and a moment later the subscriptions are gone, even if the id were someone else's now.
    await sleep(1300);
    broker.vmOwners.set("vm-grant", "bob");
    await say(`${VM}/output`);
    await say(`${SESSION}/control`);
    await sleep(200);
    expect(got).toEqual([`${VM}/output`, `${SESSION}/control`, `${VM}/output`]);
    // And alice cannot subscribe again: the ACL no longer grants it.
    broker.vmOwners.delete("vm-grant");
    await expect(alice.subscribeAsync(`${VM}/output`)).rejects.toThrow(/Subscribe error/);
  });
});
