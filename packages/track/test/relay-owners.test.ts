import { VmOwners } from "@amp/broker";
import { describe, expect, it } from "vitest";
import { SharedOwners } from "../src/cluster/index.js";
import { logger } from "./helpers.js";
import { redisFixture } from "./redis-fixture.js";

/**
 * The broker ACL's owner registries shared among nodes (what lets a user's MQTT client on one node
 * drive its VM on another): each node's `VmOwners` learns the others' grants and ends.
 */
const redis = redisFixture();
const connection = () => redis.connection();
let run = 0;

/** One node: its broker's registry, shared as the server does it (`cluster.owners.share`). */
async function node(nodeId: string, prefix: string) {
  const owners = new SharedOwners(connection(), { nodeId, prefix, logger });
  const subscriber = connection();
  subscriber.on("message", (channel: string, text: string) => {
    if (channel === owners.channel) owners.receive(text);
  });
  await subscriber.subscribe(owners.channel);
  const local = new VmOwners();
  const shared = await owners.share("vm", local);
  return { local, shared };
}

describe("shared VM owners", () => {
  it("a grant made on one node is known to the others, and its end too (the broker's onDelete runs there)", async () => {
    const prefix = `owners-${++run}:`;
    const [a, b] = [await node("node-a", prefix), await node("node-b", prefix)];
    const ended: string[] = [];
    b.local.onDelete((id) => ended.push(id));
    a.shared.set("vm-1", "alice");
    expect(a.local.get("vm-1")).toBe("alice");
    await expect.poll(() => b.local.get("vm-1")).toBe("alice");
    a.shared.delete("vm-1");
    await expect.poll(() => b.local.get("vm-1")).toBeUndefined();
    expect(ended).toEqual(["vm-1"]);
  });

  it("a node that starts later loads the grants in force", async () => {
    const prefix = `owners-${++run}:`;
    const a = await node("node-a", prefix);
    a.shared.set("vm-2", "bob");
    a.shared.set("vm-3", "carol");
    a.shared.delete("vm-3");
    await new Promise((r) => setTimeout(r, 100));
    const late = await node("node-c", prefix);
    expect(late.local.get("vm-2")).toBe("bob");
    expect(late.local.get("vm-3")).toBeUndefined();
  });

  it("drops junk on the channel: bad JSON, unknown kinds or operations, oversized ids and messages", async () => {
    const prefix = `owners-${++run}:`;
    const b = await node("node-b", prefix);
    const intruder = connection();
    for (const junk of [
      "not json",
      JSON.stringify({ op: "set", kind: "root", id: "vm-x", user: "mallory", node: "node-z" }),
      JSON.stringify({ op: "grant", kind: "vm", id: "vm-x", user: "mallory", node: "node-z" }),
      JSON.stringify({ op: "set", kind: "vm", id: "v".repeat(300), user: "mallory", node: "node-z" }),
      JSON.stringify({ op: "set", kind: "vm", id: "vm-y", user: "m".repeat(5000), node: "node-z" }),
    ]) {
      await intruder.publish(`${prefix}owners`, junk);
    }
    const a = await node("node-a", prefix);
    a.shared.set("vm-ok", "alice");
    await expect.poll(() => b.local.get("vm-ok")).toBe("alice");
    for (const id of ["vm-x", "v".repeat(300), "vm-y"]) expect(b.local.get(id)).toBeUndefined();
  });
});
