import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { upgradeWebSocket } from "@hono/node-server";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { Hono } from "hono";
import { pino } from "pino";
import { Counter } from "prom-client";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import {
  type AmpServer,
  type Component,
  type ComponentContext,
  createServer,
  HttpError,
  type RouteMount,
  serverConfig,
} from "../src/index.js";
import { type CpuProfile, errorCode, jsonBody, type OpenApiDocument } from "./helpers/json.js";

const databaseDir = mkdtempSync(join(tmpdir(), "amp-in-process-"));
afterAll(() => rmSync(databaseDir, { recursive: true, force: true }));

const config = (extra: Parameters<typeof serverConfig>[0] = {}) =>
  serverConfig({
    port: 0,
    adminPort: 0,
    brokerPort: 0,
    databaseDir,
    logLevel: "silent",
    ...extra,
  });

const servers: AmpServer[] = [];
function track(server: AmpServer): AmpServer {
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.terminate()));
});

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const url = (server: AmpServer, path: string) => `http://127.0.0.1:${server.addresses!.http.port}${path}`;
const adminUrl = (server: AmpServer, path: string) =>
  `http://127.0.0.1:${server.addresses!.admin.port}${path}`;

async function until(probe: () => boolean): Promise<void> {
  while (!probe()) await new Promise((r) => setTimeout(r, 5));
}

/** A component with one route, /demo/hello, described in OpenAPI. */
function demoComponent(hooks: Partial<Pick<Component, "start" | "stop">> = {}): Component {
  const hello = createRoute({
    method: "get",
    path: "/hello",
    request: { query: z.object({ name: z.string().min(1).max(20) }) },
    responses: {
      200: {
        description: "a greeting",
        content: { "application/json": { schema: z.object({ greeting: z.string() }).openapi("Greeting") } },
      },
    },
  });
  const app = new OpenAPIHono()
    .openapi(hello, (c) => c.json({ greeting: `hello ${c.req.valid("query").name}` }, 200))
    .get("/teapot", () => {
      throw new HttpError(418, "teapot", "short and stout");
    })
    .get("/boom", () => {
      throw new Error("secret internals at /srv/amp");
    });
  return { name: "demo", routes: [{ path: "/demo", app }], ...hooks };
}

describe("createServer", () => {
  it("answers 503 on readiness and component routes until every component has started", async () => {
    const gate = deferred();
    const server = track(
      createServer(config(), { components: [demoComponent({ start: () => gate.promise })] }),
    );
    const started = server.start();
    await until(() => server.addresses !== undefined);

    expect(server.phase).toBe("starting");
    const notReady = await fetch(url(server, "/x/health/ready"));
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ error: { code: "not_ready", message: "amp is starting" } });
    expect((await fetch(url(server, "/x/health/live"))).status).toBe(200);
    expect((await fetch(url(server, "/demo/hello?name=x"))).status).toBe(503);

    gate.resolve();
    const addresses = await started;
    expect(addresses.http.port).toBe(server.addresses!.http.port);
    expect((await fetch(url(server, "/x/health/ready"))).status).toBe(200);
    expect(await (await fetch(url(server, "/demo/hello?name=ada"))).json()).toEqual({
      greeting: "hello ada",
    });
  });

  it("starts components in order and stops them in reverse, giving each its context", async () => {
    const events: string[] = [];
    const contexts: ComponentContext[] = [];
    const component = (name: string): Component => ({
      name,
      async start(context) {
        contexts.push(context);
        events.push(`start ${name}`);
      },
      async stop() {
        events.push(`stop ${name}`);
      },
    });
    const server = track(createServer(config(), { components: ["a", "b", "c"].map(component) }));
    const addresses = await server.start();
    expect(await server.stop()).toEqual({ drained: true, failed: [] });
    expect(events).toEqual(["start a", "start b", "start c", "stop c", "stop b", "stop a"]);
    expect(contexts[0]!.baseURL).toBe(`http://localhost:${addresses.http.port}`);
    expect(contexts[0]!.addresses).toEqual(addresses);
    expect(server.phase).toBe("stopped");
  });

  it("mounts component routes, validates them with zod and describes them in /x/openapi.json", async () => {
    // A component whose routes exist only once it has started is mounted and described too.
    const remove = createRoute({
      method: "delete",
      path: "/{id}",
      request: { params: z.object({ id: z.string() }) },
      responses: { 204: { description: "gone" } },
    });
    let later: RouteMount[] = [];
    const lateComponent: Component = {
      name: "late",
      async start() {
        later = [{ path: "/x/later", app: new OpenAPIHono().openapi(remove, (c) => c.body(null, 204)) }];
      },
      get routes() {
        return later;
      },
    };
    const server = track(createServer(config(), { components: [demoComponent(), lateComponent] }));
    await server.start();
    const doc = await jsonBody<OpenApiDocument>(await fetch(url(server, "/x/openapi.json")));
    expect(doc.paths["/x/later/{id}"]?.delete?.parameters[0]).toMatchObject({ name: "id", in: "path" });
    expect((await fetch(url(server, "/x/later/42"), { method: "DELETE" })).status).toBe(204);
    expect(doc.paths["/demo/hello"]?.get?.parameters[0]).toMatchObject({
      name: "name",
      in: "query",
      required: true,
    });
    expect(doc.components.schemas.Greeting).toBeDefined();

    const invalid = await fetch(url(server, "/demo/hello"));
    expect(invalid.status).toBe(400);
    expect(await errorCode(invalid)).toBe("bad_request");

    const typed = await fetch(url(server, "/demo/teapot"));
    expect(typed.status).toBe(418);
    expect(await typed.json()).toEqual({ error: { code: "teapot", message: "short and stout" } });

    const crash = await fetch(url(server, "/demo/boom"));
    expect(crash.status).toBe(500);
    const body = await crash.text();
    expect(JSON.parse(body)).toEqual({ error: { code: "internal", message: "internal error" } });
    expect(body).not.toContain("/srv/amp");
  });

  it("mounts admin routes on the admin port and serves component metrics", async () => {
    let counter: Counter | undefined;
    const server = track(
      createServer(config(), {
        components: [
          {
            name: "counting",
            adminRoutes: [{ path: "/x/counting", app: new Hono().get("/", (c) => c.json({ admin: true })) }],
            async start({ metrics }) {
              counter = new Counter({ name: "amp_demo_things_total", help: "things", registers: [metrics] });
              counter.inc(3);
            },
          },
        ],
      }),
    );
    await server.start();
    expect(await (await fetch(adminUrl(server, "/x/counting"))).json()).toEqual({ admin: true });
    expect((await fetch(url(server, "/x/counting"))).status).toBe(404);
    expect(await (await fetch(adminUrl(server, "/metrics"))).text()).toContain("amp_demo_things_total 3");
  });

  it("lets an injected authorizer open the debug routes; denies by default", async () => {
    const closed = track(createServer(config()));
    await closed.start();
    const denied = await fetch(adminUrl(closed, "/x/debug/heap"));
    expect(denied.status).toBe(403);
    expect(await errorCode(denied)).toBe("forbidden");

    const open = track(
      createServer(config(), { authorizeAdmin: (request) => request.headers.get("x-root") === "yes" }),
    );
    await open.start();
    expect((await fetch(adminUrl(open, "/x/debug/profile?seconds=1"))).status).toBe(401);
    const allowed = await fetch(adminUrl(open, "/x/debug/profile?seconds=1"), {
      headers: { "x-root": "yes" },
    });
    expect(allowed.status).toBe(200);
    expect((await jsonBody<CpuProfile>(allowed)).nodes.length).toBeGreaterThan(0);
  });

  it("drains an in-flight request before stopping components, answering 503 to probes meanwhile", async () => {
    const events: string[] = [];
    const stopping = deferred();
    const arrived = deferred();
    const slowApp = new Hono().get("/", async (c) => {
      arrived.resolve();
      await new Promise((r) => setTimeout(r, 400));
      events.push("slow request answered");
      return c.json({ slow: true });
    });
    const server = track(
      createServer(config(), {
        components: [
          {
            name: "slow",
            routes: [{ path: "/slow", app: slowApp }],
            async stop() {
              events.push("component stopping");
              await stopping.promise;
            },
          },
        ],
      }),
    );
    await server.start();
    const inFlight = fetch(url(server, "/slow"));
    await arrived.promise;
    const stopped = server.stop();

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ slow: true });
    await until(() => events.includes("component stopping"));
    expect(events).toEqual(["slow request answered", "component stopping"]);
    expect((await server.app.request("/x/health/ready")).status).toBe(503);
    expect((await server.app.request("/slow")).status).toBe(503);

    stopping.resolve();
    expect(await stopped).toEqual({ drained: true, failed: [] });
  });

  it("terminate() cuts a drain short and still stops the components", async () => {
    let stopped = false;
    const arrived = deferred();
    const hang = new Hono().get("/", () => {
      arrived.resolve();
      return new Promise<Response>(() => {});
    });
    const server = track(
      createServer(config({ shutdownGraceMs: 60_000 }), {
        components: [
          {
            name: "hang",
            routes: [{ path: "/hang", app: hang }],
            async stop() {
              stopped = true;
            },
          },
        ],
      }),
    );
    await server.start();
    const request = fetch(url(server, "/hang")).catch((error: unknown) => error);
    await arrived.promise;
    const stop = server.stop();
    await new Promise((r) => setTimeout(r, 100));
    const began = Date.now();
    const result = await server.terminate();
    expect(Date.now() - began).toBeLessThan(1_000);
    expect(result.drained).toBe(false);
    expect(await stop).toBe(result);
    expect(stopped).toBe(true);
    expect(await request).toBeInstanceOf(Error);
  });

  it("rolls back when a component fails to start", async () => {
    const events: string[] = [];
    const server = track(
      createServer(config(), {
        components: [
          {
            name: "first",
            start: async () => void events.push("start first"),
            stop: async () => void events.push("stop first"),
          },
          {
            name: "broken",
            start: async () => {
              throw new Error("disk on fire");
            },
          },
        ],
      }),
    );
    await expect(server.start()).rejects.toThrow("component broken failed to start: disk on fire");
    expect(events).toEqual(["start first", "stop first"]);
    expect(server.phase).toBe("stopped");
    await expect(fetch(url(server, "/x/health/live"))).rejects.toThrow();
  });

  it("names the setting when its port is taken", async () => {
    const blocker = createNetServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const server = track(createServer(config({ port, host: "127.0.0.1" })));
      await expect(server.start()).rejects.toThrow(`--port 127.0.0.1:${port} is already in use`);
    } finally {
      blocker.close();
    }
  });

  it("carries WebSockets for component routes and closes them on stop", async () => {
    const app = new Hono().get(
      "/echo",
      upgradeWebSocket(() => ({ onMessage: (event, ws) => ws.send(`echo ${event.data}`) })),
    );
    const server = track(
      createServer(config(), { components: [{ name: "ws", routes: [{ path: "/ws", app }] }] }),
    );
    await server.start();
    const ws = new WebSocket(`ws://127.0.0.1:${server.addresses!.http.port}/ws/echo`);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const reply = new Promise((resolve) => ws.once("message", (data) => resolve(String(data))));
    ws.send("ping");
    expect(await reply).toBe("echo ping");

    const closed = new Promise((resolve) => ws.once("close", resolve));
    const result = await server.stop();
    expect(result.drained).toBe(true);
    await closed;
  });

  it("logs through the logger it is given", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const server = track(createServer(config(), { logger }));
    await server.start();
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(["listening", "ready"]));
  });
});
