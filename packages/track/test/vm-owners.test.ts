import { Broker, BrokerClient, VmOwners } from "@amp/broker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRemix, logger, root, type Stack, startStack, TrackClient } from "./helpers.js";

describe("VM topics belong to the session's owner (real broker over TCP)", () => {
  const vmOwners = new VmOwners();
  let broker: Broker;
  let stack: Stack;
  const clients: BrokerClient[] = [];

  const mqttClient = async (user: string) => {
    const client = await BrokerClient.connect({
      url: `mqtt://127.0.0.1:${broker.port}`,
      username: user,
      token: await stack.token(user),
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    stack = await startStack({
      remix: [buildRemix("vmapp", new TextEncoder().encode("tim-native"))],
      manager: { vmOwners },
    });
    await stack.apps.setRules(root, "vmapp", { allowed_run: ["alice", "bob"] });
    broker = new Broker({
      logger,
      port: 0,
      host: "127.0.0.1",
      vmOwners,
      verifier: { verify: (token) => stack.tokens.verify(token) },
      appRoles: { can: () => false },
    });
    await broker.start();
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await broker?.close();
    await stack?.close();
  });

  it("only the owner subscribes under the session's VM while it lives", async () => {
    const track = await TrackClient.open(stack.url, "vmapp", await stack.token("alice"));
    try {
      const { response } = await track.request({ _rmx_type: "msg_session_create" });
      expect(response.errors).toBeUndefined();
      const vm = `/org/testorg/ws/testws/vm/${response.machine}`;
      expect(vmOwners.get(response.machine)).toBe("alice");

      const bob = await mqttClient("bob");
      await expect(bob.subscribe(`${vm}/output`, () => {})).rejects.toMatchObject({ code: "BROKER_DENIED" });

      const alice = await mqttClient("alice");
      const received: string[] = [];
      await alice.subscribe(`${vm}/output`, (_topic, payload) =>
        received.push(new TextDecoder().decode(payload)),
      );
      await broker.publish(`${vm}/output`, new TextEncoder().encode("cells"));
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(received).toEqual(["cells"]);

      // Once the session ends, its VM's topics are nobody's.
      const destroyed = await track.request({ _rmx_type: "msg_session_destroy", session: response.session });
      expect(destroyed.response.errors).toBeUndefined();
      expect(vmOwners.get(response.machine)).toBeUndefined();
      await expect(alice.subscribe(`${vm}/drvStatus`, () => {})).rejects.toMatchObject({
        code: "BROKER_DENIED",
      });
    } finally {
      track.close();
    }
  });
});
