import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { authMiddleware } from "@amp/auth";
import { createAdaptorServer, type WebSocketServerLike } from "@hono/node-server";
import { Hono } from "hono";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { trackRoutes } from "../src/http.js";
import { buildRemix, root, type Stack, startStack } from "./helpers.js";

/** A pino logger that keeps its lines, to assert what was (not) logged. */
function recordingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: "debug" },
    { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) },
  );
  return { logger, errors: () => lines.filter((l) => l.level >= 50) };
}

describe("the track routes on the HTTP edge", () => {
  let stack: Stack;
  let token: string;
  let server: Server;
  let url: string;
  const log = recordingLogger();

  beforeAll(async () => {
    stack = await startStack({ remix: [buildRemix("app1", new TextEncoder().encode("tim-native"))] });
    await stack.apps.setRules(root, "app1", { allowed_run: ["alice"] });
    token = await stack.token("alice");
    // The track routes with a small message limit (1000 bytes) and a logger that keeps its lines.
    const app = new Hono();
    app.use("*", authMiddleware({ tokens: stack.tokens }));
    app.route(
      "/",
      trackRoutes({ protocol: stack.protocol, logger: log.logger, limits: { maxMessageBytes: 1000 } }),
    );
    const wss = new WebSocketServer({ noServer: true });
    server = createAdaptorServer({
      fetch: app.fetch,
      websocket: { server: wss as unknown as WebSocketServerLike },
    }) as Server;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await stack.close();
  });

  it("answers a body without a content type, or of a type it does not take, 415 (no error log)", async () => {
    for (const headers of [{}, { "content-type": "text/plain" }] as Record<string, string>[]) {
      const res = await fetch(`${url}/app1/track/msg_session_list`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, ...headers },
        body: "{}",
      });
      expect(res.status).toBe(415);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unsupported_media_type");
    }
    const batch = await fetch(`${url}/app1/track`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: "[]",
    });
    expect(batch.status).toBe(415);
    expect(log.errors()).toEqual([]);
  });

  it("counts an HTTP body's bytes, not its UTF-16 units", async () => {
    // 400 "€" are 400 UTF-16 units and 1200 bytes: past the 1000-byte limit.
    const res = await fetch(`${url}/app1/track/msg_session_list`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ x: "€".repeat(400) }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("too_large");
  });

  /** Sends one frame on a new track socket and returns the answer's errors. */
  async function frameErrors(frame: string | Buffer): Promise<{ code: string; message: string }> {
    const ws = new WebSocket(`${url.replace("http", "ws")}/app1/track.ws?token=${token}`);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const answer = new Promise<string>((resolve) => ws.once("message", (d) => resolve(d.toString())));
    ws.send(frame);
    const response = JSON.parse(await answer) as { errors: { code: string; message: string } };
    ws.close();
    return response.errors;
  }

  it("counts a WebSocket frame's bytes, not its UTF-16 units", async () => {
    expect((await frameErrors(JSON.stringify({ _rmx_type: "?", x: "€".repeat(400) }))).code).toBe(
      "Track-tooLarge",
    );
  });

  it("answers a binary frame with its own error, Track-binaryFrame", async () => {
    expect(await frameErrors(Buffer.from('{"_rmx_type":"msg_session_list"}'))).toEqual({
      code: "Track-binaryFrame",
      message: "messages are JSON in text frames, not binary frames",
    });
  });
});
