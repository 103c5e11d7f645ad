import { remixArtifactsFor } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { brokerOverWebSocket } from "./helpers/broker.js";
import { type ComposedAmp, startComposed } from "./helpers/composed.js";
import { errorCode } from "./helpers/json.js";

interface Summary {
  at: string;
  requests: number;
  sessions: number | null;
  vmMemoryBytes: number | null;
  processMemoryBytes: number;
  brokerClients: number | null;
  brokerMessages: number | null;
}

const artifacts = remixArtifactsFor("GET /x/metrics/summary with the Groovebox");

describe("GET /x/metrics/summary: the admin port's figures on the public port, for root", () => {
  let amp: ComposedAmp;
  let root: string;
  let alice: string;
  const summary = (token?: string) =>
    fetch(amp.url("/x/metrics/summary"), { headers: token ? { authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    amp = await startComposed(artifacts ? { groovebox: artifacts.groovebox } : {});
    root = await amp.token("root");
    alice = await amp.token("alice");
  });
  afterAll(() => amp?.close());

  it("answers the figures, and the request count moves with requests", async () => {
    const first = (await (await summary(root)).json()) as Summary;
    expect(first).toMatchObject({ sessions: 0, brokerClients: 0 });
    expect(first.processMemoryBytes).toBeGreaterThan(10 * 1024 * 1024);
    if (artifacts) expect(first.vmMemoryBytes).toEqual(expect.any(Number));
    for (let i = 0; i < 5; i++) expect((await fetch(amp.url("/x/health/live"))).status).toBe(200);
    const res = await summary(root);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const second = (await res.json()) as Summary;
    // The five, and the first summary request itself (counted once answered).
    expect(second.requests - first.requests).toBe(6);
    expect(Date.parse(second.at)).toBeGreaterThanOrEqual(Date.parse(first.at));
  });

  it("counts the messages published through the broker, not those the ACL refuses", async () => {
    const read = async () => (await (await summary(root)).json()) as Summary;
    const connect = async (user: string) => brokerOverWebSocket(amp, user, await amp.token(user));
    const [rooted, aliced] = [await connect("root"), await connect("alice")];
    try {
      const before = await read();
      expect(before.brokerClients).toBe(2);
      for (let i = 0; i < 7; i++) await rooted.publish(`metrics/${i}`, Buffer.from("m"), { qos: 1 });
      // alice has no role: the broker acknowledges her publish but never routes it.
      await aliced.publish("metrics/refused", Buffer.from("x"), { qos: 1 });
      expect((await read()).brokerMessages! - before.brokerMessages!).toBe(7);
    } finally {
      await rooted.close();
      await aliced.close();
    }
  });

  it("refuses a non-root user (403 forbidden) and no token (401 unauthenticated)", async () => {
    const forbidden = await summary(alice);
    expect(forbidden.status).toBe(403);
    expect(await errorCode(forbidden)).toBe("forbidden");
    const anonymous = await summary();
    expect(anonymous.status).toBe(401);
    expect(await errorCode(anonymous)).toBe("unauthenticated");
  });
});
