// The broker with amp's own verifier (`@amp/auth`'s TokenService), as the server composes it:
// MQTT CONNECT goes through the same cached token check as HTTP and WebSocket requests.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type KeyVault, TokenService } from "@amp/auth";
import mqtt from "mqtt";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Broker } from "../src/index.js";

let dir: string;
let tokens: TokenService;
let broker: Broker;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "amp-broker-verifier-"));
  const vault = new Map<string, string>();
  const keyVault: KeyVault = {
    get: async (name) => vault.get(name),
    set: async (name, value) => void vault.set(name, value),
  };
  tokens = await TokenService.open({ databaseDir: dir, vault: keyVault, issuer: "amp-test" });
  broker = new Broker({
    logger: pino({ level: "silent" }),
    verifier: tokens,
    appRoles: { can: () => false },
    port: 0,
    host: "127.0.0.1",
  });
  const { port } = await broker.start();
  url = `mqtt://127.0.0.1:${port}`;
});

afterAll(async () => {
  await broker?.close();
  await tokens?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function connack(username: string, token: string): Promise<number> {
  try {
    const c = await mqtt.connectAsync(url, {
      reconnectPeriod: 0,
      protocolVersion: 4,
      username,
      password: `Bearer ${token}`,
    });
    await c.endAsync();
    return 0;
  } catch (error) {
    return (error as { code: number }).code;
  }
}

describe("MQTT CONNECT through @amp/auth's TokenService", () => {
  it("checks a reconnecting token from the verifier's cache, and refuses it on the next CONNECT once revoked", async () => {
    const token = await tokens.issue("alice");
    const before = tokens.verifiedTokenCacheStats();
    expect(await connack("alice", token)).toBe(0);
    expect(await connack("alice", token)).toBe(0);
    const after = tokens.verifiedTokenCacheStats();
    expect(after.misses - before.misses).toBe(1);
    expect(after.hits - before.hits).toBe(1);
    expect(await tokens.revoke(token)).toBe(true);
    expect(await connack("alice", token)).toBe(5);
  });

  it("refuses a tampered token although the genuine one is cached", async () => {
    const token = await tokens.issue("bob");
    expect(await connack("bob", token)).toBe(0);
    const forged = `${token.slice(0, token.lastIndexOf(".") + 1)}${"A".repeat(86)}`;
    expect(await connack("bob", forged)).toBe(5);
  });
});
