import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { rawExchange, rawJsonBody } from "@amp/test-support";
import { createAdaptorServer } from "@hono/node-server";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bodyLimit,
  defaultBodyLimit,
  type EdgeLogger,
  edgeApp,
  edgeLogger,
  errorResponses,
  HttpError,
  httpError,
  jsonBody,
  jsonResponse,
  readBody,
  readJson,
} from "../src/index.js";
import { answerClientErrors } from "../src/node.js";

function recordingLogger() {
  const lines: { level: string; object: object; message: string }[] = [];
  const logger: EdgeLogger = {
    error: (object, message) => lines.push({ level: "error", object, message }),
    debug: (object, message) => lines.push({ level: "debug", object, message }),
  };
  return { logger, lines };
}

function testApp(logger?: EdgeLogger) {
  const app = edgeApp(logger ? { logger, scope: "test" } : {});
  app.openapi(
    createRoute({
      method: "post",
      path: "/items",
      middleware: [bodyLimit(100)] as const,
      request: { body: jsonBody(z.object({ name: z.string().max(10) })) },
      responses: {
        200: jsonResponse("ok", z.object({ name: z.string() })),
        ...errorResponses(400, 413, 415),
      },
    }),
    (c) => c.json(c.req.valid("json"), 200),
  );
  app.post("/raw", bodyLimit(1000), async (c) => c.json({ bytes: (await readBody(c)).byteLength }));
  app.post("/json", bodyLimit(1000), async (c) => c.json({ got: await readJson(c) }));
  app.post("/big", bodyLimit(4096), async (c) => c.json({ bytes: (await readBody(c)).byteLength }));
  app.post("/default", async (c) => c.json({ bytes: (await readBody(c)).byteLength }));
  app.get("/own", () => {
    throw new HttpError(409, "Thing-taken", "taken", { headers: { "Retry-After": "3" } });
  });
  app.get("/generic", () => {
    throw httpError("forbidden", "no");
  });
  app.get("/hono", () => {
    throw new HTTPException(401, { message: "who are you" });
  });
  app.get("/boom", () => {
    throw new Error("secret detail", { cause: new Error("root cause") });
  });
  app.post("/early", bodyLimit(8 * 1024 * 1024), () => {
    throw httpError("unauthenticated", "log in first");
  });
  return app;
}

const post = (
  path: string,
  body: string | Buffer | ReadableStream<Uint8Array> | null,
  headers: Record<string, string> = {},
) => new Request(`http://x${path}`, { method: "POST", body, headers, duplex: "half" } as RequestInit);

describe("the envelope and onError", () => {
  it("answers an HttpError with its status, code, message and headers", async () => {
    const res = await testApp().request("/own");
    expect(res.status).toBe(409);
    expect(res.headers.get("retry-after")).toBe("3");
    expect(await res.json()).toEqual({ error: { code: "Thing-taken", message: "taken" } });
  });

  it("gives generic failures the one generic code", async () => {
    const app = testApp();
    expect(await (await app.request("/generic")).json()).toEqual({
      error: { code: "forbidden", message: "no" },
    });
    const hono = await app.request("/hono");
    expect(hono.status).toBe(401);
    expect(await hono.json()).toEqual({ error: { code: "unauthenticated", message: "who are you" } });
  });

  it("logs a 500 with its cause and tells the client nothing more", async () => {
    const { logger, lines } = recordingLogger();
    const res = await testApp(logger).request("/boom?token=abc");
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ error: { code: "internal", message: "internal error" } });
    expect(text).not.toMatch(/secret detail|root cause|at /);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe("error");
    expect(lines[0]!.message).toBe("test route failed");
    expect((lines[0]!.object as { err: Error }).err.message).toBe("secret detail");
    expect(JSON.stringify(lines[0]!.object)).not.toContain("abc");
  });

  it("logs through the logger a server put in front when the package has none", async () => {
    const { logger, lines } = recordingLogger();
    const server = new OpenAPIHono();
    server.use(edgeLogger(logger));
    server.route("/", testApp());
    expect((await server.request("/boom")).status).toBe(500);
    expect(lines.map((l) => l.level)).toEqual(["error"]);
  });

  it("does not log a client's mistake as an error", async () => {
    const { logger, lines } = recordingLogger();
    const app = testApp(logger);
    await app.request(post("/items", "{}", { "content-type": "text/plain" }));
    await app.request(post("/items", "{nope", { "content-type": "application/json" }));
    await app.request("/generic");
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
  });
});

describe("the zod hook and content types", () => {
  it("answers a schema failure 400 bad_request with path: message", async () => {
    const res = await testApp().request(
      post("/items", JSON.stringify({ name: "much too long" }), { "content-type": "application/json" }),
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("bad_request");
    expect(body.error.message).toMatch(/^name: /);
  });

  it("answers a missing or wrong content type 415 unsupported_media_type", async () => {
    const app = testApp();
    for (const headers of [{}, { "content-type": "text/plain" }] as Record<string, string>[]) {
      const res = await app.request(post("/items", JSON.stringify({ name: "a" }), headers));
      expect(res.status).toBe(415);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unsupported_media_type");
    }
    const own = await app.request(post("/json", "{}", { "content-type": "text/plain" }));
    expect(own.status).toBe(415);
  });

  it("answers a body that is not JSON 400 bad_request", async () => {
    for (const path of ["/items", "/json"]) {
      const res = await testApp().request(post(path, "{nope", { "content-type": "application/json" }));
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: { code: "bad_request", message: "invalid JSON body" } });
    }
  });
});

function chunked(...parts: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const p of parts) controller.enqueue(encoder.encode(p));
      controller.close();
    },
  });
}

describe("body limits", () => {
  it("refuses a declared Content-Length past the route's limit before reading", async () => {
    const res = await testApp().request(
      post("/items", JSON.stringify({ name: "a".repeat(200) }), { "content-type": "application/json" }),
    );
    expect(res.status).toBe(413);
    expect(res.headers.get("connection")).toBe("close");
    expect(await res.json()).toEqual({
      error: { code: "too_large", message: "request body larger than 100 bytes" },
    });
  });

  it("counts bytes, not UTF-16 units, in a streamed body", async () => {
    // 400 "€" are 400 UTF-16 units but 1200 bytes: past a 1000-byte limit.
    const app = testApp();
    const res = await app.request(post("/raw", chunked("€".repeat(200), "€".repeat(200))));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("too_large");
    const ok = await app.request(post("/raw", chunked("€".repeat(100), "€".repeat(100))));
    expect(await ok.json()).toEqual({ bytes: 600 });
  });

  it("refuses a streamed body a zod validator reads as 413, not as bad JSON", async () => {
    const res = await testApp().request(
      post("/items", chunked('{"name":"', "x".repeat(300), '"}'), { "content-type": "application/json" }),
    );
    expect(res.status).toBe(413);
  });

  it("lets a route's own limit replace the server default, up or down", async () => {
    const server = new OpenAPIHono();
    server.use(defaultBodyLimit(2000));
    server.route("/", testApp());
    // /big declares 4096: more than the default passes.
    expect((await server.request(post("/big", "x".repeat(3000)))).status).toBe(200);
    // /default declares none: the default applies.
    expect((await server.request(post("/default", "x".repeat(1500)))).status).toBe(200);
    expect((await server.request(post("/default", chunked("x".repeat(1500), "x".repeat(1500))))).status).toBe(
      413,
    );
    // /raw declares 1000: less than the default is refused.
    expect((await server.request(post("/raw", "x".repeat(1500)))).status).toBe(413);
  });

  it("refuses an announced body past the default up front where no route declares a limit", async () => {
    const server = edgeApp();
    server.use(defaultBodyLimit(2000));
    server.route("/", testApp());
    for (const path of ["/default", "/no/such/route"]) {
      const res = await server.request(post(path, "x".repeat(3000), { "content-length": "3000" }));
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("too_large");
    }
  });
});

describe("on a real Node server", () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    const app = edgeApp();
    app.use(defaultBodyLimit(1024 * 1024));
    app.route("/", testApp());
    server = createAdaptorServer({ fetch: app.fetch }) as Server;
    answerClientErrors(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const exchange = (...writes: (string | Buffer)[]) => rawExchange(port, writes, 3000);

  it("keeps a connection usable after a route answered before reading a 300 KB body", async () => {
    const body = Buffer.alloc(300_000, 0x61);
    const out = await exchange(
      `POST /early HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      body,
      "GET /generic HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    expect(out).toMatch(/^HTTP\/1.1 401 /);
    expect(out).toContain('"code":"unauthenticated"');
    // The second request on the same connection is answered.
    expect(out).toMatch(/HTTP\/1.1 403 [\s\S]*"code":"forbidden"/);
  });

  it("closes, saying so, when the unread body is too large to drain", async () => {
    const size = 4 * 1024 * 1024;
    const out = await exchange(
      `POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: ${size}\r\n\r\n`,
      Buffer.alloc(64 * 1024, 0x61),
    );
    expect(out).toMatch(/^HTTP\/1.1 401 /);
    expect(out.toLowerCase()).toContain("connection: close");
    expect(out.toLowerCase()).not.toContain("keep-alive");
  });

  it("answers Node's parser refusals in the envelope", async () => {
    const big = await exchange(`GET /generic HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1.1 431 /);
    expect(rawJsonBody(big)).toEqual({
      error: { code: "headers_too_large", message: "request headers too large" },
    });
    const bad = await exchange("NOT A REQUEST\r\n\r\n");
    expect(bad).toMatch(/^HTTP\/1.1 400 /);
    expect(rawJsonBody(bad)).toMatchObject({ error: { code: "bad_request" } });
  });
});
