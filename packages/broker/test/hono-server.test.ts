import type { Server } from "node:http";
import { RoleTable, TestTokens } from "@amp/test-support";
import { serve, upgradeWebSocket } from "@hono/node-server";
import { Hono } from "hono";
import mqtt from "mqtt";
import { afterAll, beforeAll, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { attachBrokerWebSocket, type Broker } from "../src/index.js";
import { startBroker } from "./helpers.js";

// The server helper serves with @hono/node-server 2.x, which has its own 'upgrade' listener;
// the broker's path must work beside the app's own WebSocket routes.
let tokens: TestTokens;
let broker: Broker;
let server: Server;
let detach: () => void;
let base: string;

beforeAll(async () => {
  tokens = await TestTokens.create();
  broker = await startBroker({
    verifier: tokens,
    appRoles: new RoleTable().grant("alice", "notes", "read", "run"),
  });
  const app = new Hono();
  app.get("/x/serverinfo", (c) => c.json({ ok: true }));
  app.get(
    "/notes/track.ws",
    upgradeWebSocket(() => ({ onMessage: (event, ws) => ws.send(`echo ${event.data}`) })),
  );
  await new Promise<void>((resolve) => {
    server = serve(
      {
        fetch: app.fetch,
        port: 0,
        hostname: "127.0.0.1",
        websocket: { server: new WebSocketServer({ noServer: true }) },
      },
      () => resolve(),
    ) as Server;
  });
  detach = attachBrokerWebSocket(server, broker);
  base = `127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  detach();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await broker.close();
});

it("serves /x/broker.ws beside the app's routes and its own WebSocket routes", async () => {
  const client = await mqtt.connectAsync(`ws://${base}/x/broker.ws`, {
    username: "alice",
    password: `Bearer ${await tokens.sign("alice")}`,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
  const got = new Promise<string>((resolve) => client.once("message", (_t, p) => resolve(`${p}`)));
  await client.subscribeAsync("/org/o/ws/w/app/notes/x");
  await client.publishAsync("/org/o/ws/w/app/notes/x", "through hono's server", { qos: 1 });
  expect(await got).toBe("through hono's server");
  await client.endAsync();

  const echo = await new Promise<string>((resolve, reject) => {
    const ws = new WebSocket(`ws://${base}/notes/track.ws`);
    ws.once("open", () => ws.send("ping"));
    ws.once("message", (data) => {
      resolve(`${data}`);
      ws.close();
    });
    ws.once("error", reject);
  });
  expect(echo).toBe("echo ping");
  expect(await (await fetch(`http://${base}/x/serverinfo`)).json()).toEqual({ ok: true });
});
