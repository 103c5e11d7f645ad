import { type AmpUser, bearerToken } from "@amp/auth";
import type { MixMap } from "@amp/codec";
import {
  bodyLimit,
  DEFAULT_MESSAGE_BYTES,
  edgeApp,
  errorResponses,
  jsonResponse,
  readBody,
} from "@amp/http-edge";
import { upgradeWebSocket } from "@hono/node-server";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, Env, MiddlewareHandler } from "hono";
import type { Logger } from "pino";
import { TrackError } from "./errors.js";
import type { OutboundHttp } from "./outbound/http-client.js";
import type { TrackConnection, TrackProtocol } from "./protocol/dispatch.js";
import { AnyMessageSchema, MESSAGE_TYPES } from "./protocol/messages.js";
import { type TrackResponse, TrackResponseSchema } from "./protocol/response.js";
import { MODULE_NAME, type TransformKind, type Transforms, WEBHOOK_ID } from "./transforms.js";

export interface TrackEnv extends Env {
  Variables: { user: AmpUser };
}

export interface TrackLimits {
  /**
   * Largest message in bytes (WebSocket frame or HTTP body). Default 1 MiB. The WebSocket server's
   * `maxPayload` refuses larger frames before reading them; this is checked again per message.
   */
  maxMessageBytes: number;
  /** Messages in one `POST /{app}/track` batch. Default 100. */
  maxBatch: number;
  /** Messages one WebSocket may have in flight. Default 64. */
  maxInFlight: number;
}

export const DEFAULT_TRACK_LIMITS: TrackLimits = {
  maxMessageBytes: DEFAULT_MESSAGE_BYTES,
  maxBatch: 100,
  maxInFlight: 64,
};

export interface TrackRoutesOptions {
  protocol: TrackProtocol;
  logger: Logger;
  /** Webhooks, agents and lambdas; their routes are absent without it. */
  transforms?: Transforms;
  /** `/{app}/proxy/{remote}/{path}`: remote name → base URL, reached through `outbound`. */
  proxy?: { remotes: Readonly<Record<string, string>>; outbound: OutboundHttp };
  limits?: Partial<TrackLimits>;
}

const AppParam = z.object({
  app: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: "app", in: "path" } }),
});

function userOf(c: Context<TrackEnv>): AmpUser {
  const user = c.get("user");
  if (!user)
    throw new TrackError("Track-forbidden", "no user on the request (is the auth middleware mounted?)");
  return user;
}

/**
 * The track HTTP surface as a Hono sub-app, for `app.route("/", trackRoutes(...))` after
 * `@amp/auth`'s middleware (which puts the user on `c.get("user")` and accepts `?token=`).
 *
 * - `GET /{app}/track.ws?token=…`: the WebSocket (needs a server made with @hono/node-server's
 *   `createAdaptorServer({fetch, websocket: {server: new WebSocketServer({noServer: true})}})`);
 * - `POST /{app}/track/{msgType}` and `POST /{app}/track` (a batch): synchronous;
 * - `/{app}/webhooks/{id}` (a webhook id the app registered), `/{app}/agents/{module}`,
 *   `/{app}/lambda/{module}`, and `/x/apps/{app}/webhooks[/{id}]` to manage the ids (with `transforms`);
 * - `/{app}/proxy/{remote}/{path}` (with `proxy`).
 */
export function trackRoutes(options: TrackRoutesOptions): OpenAPIHono<TrackEnv> {
  const limits = { ...DEFAULT_TRACK_LIMITS, ...options.limits };
  const { protocol } = options;
  const log = options.logger.child({ component: "track-http" });
  const router = edgeApp<TrackEnv>({ logger: log, scope: "track" });
  const limit = bodyLimit(limits.maxMessageBytes);
  const connection = (c: Context<TrackEnv>, app: string): TrackConnection => ({
    user: userOf(c),
    token: bearerToken(c) ?? "",
    app,
  });

  router.openAPIRegistry.registerPath({
    method: "get",
    path: "/{app}/track.ws",
    summary: "Open a track WebSocket (needs allowed_run)",
    description:
      "Upgrades to a WebSocket carrying track messages as JSON text frames, as Remix's web runtime does without `vm-init`: first `msg_session_create`, then view messages; every answer and every cell the VM pushes arrives as a `msg_response`. Browsers pass the token as `?token=`.",
    request: { params: AppParam },
    responses: {
      101: { description: "Switching to the WebSocket protocol" },
      ...errorResponses(401, 403, 404),
    },
  });
  router.get("/:app/track.ws", async (c, next) => {
    const user = userOf(c);
    const app = c.req.param("app");
    // Refuse before upgrading: a user who may not run the app never gets a socket.
    if (!protocol.apps.can(user, app, "allowed_run")) {
      throw new TrackError("Track-noApp", "no such app");
    }
    const conn = connection(c, app);
    return upgradeWebSocket(() => {
      let inFlight = 0;
      let open = true;
      const send = (socket: { readyState: number; send(data: string): void }, r: TrackResponse) => {
        if (open && socket.readyState === 1) socket.send(JSON.stringify(r));
      };
      return {
        onOpen: (_event, ws) => {
          conn.sessions = new Set();
          conn.sink = { send: (r) => send(ws, r) };
        },
        onMessage: async (event, ws) => {
          const data = event.data;
          // Frames past the server's maxPayload never get here (ws closes with 1009 from the header);
          // this is the track's own limit, in bytes.
          if (typeof data !== "string" || Buffer.byteLength(data) > limits.maxMessageBytes) {
            return send(
              ws,
              await protocol.handle({ _rmx_type: "?" }, conn).then((r) => refused(r, data, limits)),
            );
          }
          if (inFlight >= limits.maxInFlight) {
            const r = await protocol.handle({ _rmx_type: "?" }, conn);
            r.errors = { code: "Track-busy", message: `at most ${limits.maxInFlight} messages in flight` };
            return send(ws, r);
          }
          let message: unknown;
          try {
            message = JSON.parse(data);
          } catch {
            const r = await protocol.handle({ _rmx_type: "?" }, conn);
            r.errors = { code: "Track-badMessage", message: "invalid JSON" };
            return send(ws, r);
          }
          inFlight++;
          try {
            send(ws, await protocol.handle(message, conn));
          } finally {
            inFlight--;
          }
        },
        onClose: () => {
          open = false;
          protocol.disconnect(conn);
        },
        onError: () => undefined,
      };
    })(c, next);
  });

  router.openapi(
    createRoute({
      method: "post",
      path: "/{app}/track/{msgType}",
      middleware: [limit] as const,
      request: {
        params: AppParam.extend({
          msgType: z
            .string()
            .max(100)
            .openapi({ param: { name: "msgType", in: "path" }, example: "msg_view_load" }),
        }),
        body: {
          content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
          required: false,
        },
      },
      responses: {
        200: {
          description: "The msg_response (errors inside it)",
          content: { "application/json": { schema: TrackResponseSchema } },
        },
        ...errorResponses(400, 404, 413, 415),
      },
      summary: "Send one track message",
      description: `One track message, answered synchronously. Types: ${MESSAGE_TYPES.join(", ")}.`,
    }),
    async (c) => {
      const { app, msgType } = c.req.valid("param");
      const body = (await c.req.json().catch(() => ({}))) as Record<string, unknown>;
      const response = await protocol.handle({ ...body, _rmx_type: msgType }, connection(c, app));
      return c.json(response as z.infer<typeof TrackResponseSchema>, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "post",
      path: "/{app}/track",
      middleware: [limit] as const,
      request: {
        params: AppParam,
        body: {
          content: { "application/json": { schema: z.array(AnyMessageSchema).max(limits.maxBatch) } },
          required: true,
        },
      },
      summary: "Send a batch of track messages",
      responses: {
        200: {
          description: "One msg_response per message, in order",
          content: { "application/json": { schema: z.array(TrackResponseSchema) } },
        },
        ...errorResponses(400, 404, 413, 415),
      },
    }),
    async (c) => {
      const { app } = c.req.valid("param");
      const messages = c.req.valid("json");
      const conn = connection(c, app);
      const out: TrackResponse[] = [];
      for (const m of messages) out.push(await protocol.handle(m, conn));
      return c.json(out as z.infer<typeof TrackResponseSchema>[], 200);
    },
  );

  if (options.transforms) {
    webhookRoutes(router, options.transforms, limit);
    transformRoutes(router, options.transforms, limit, connection);
  }
  if (options.proxy) proxyRoutes(router, options.proxy, limit, protocol);
  return router;
}

/** The answer to a frame refused before parsing: binary, or past the message limit in bytes. */
function refused(r: TrackResponse, data: unknown, limits: TrackLimits): TrackResponse {
  r.errors =
    typeof data === "string"
      ? {
          code: "Track-tooLarge",
          message: `messages are text frames of at most ${limits.maxMessageBytes} bytes`,
        }
      : { code: "Track-binaryFrame", message: "messages are JSON in text frames, not binary frames" };
  return r;
}

const SAFE_REQUEST_HEADERS = /^(content-type|accept|user-agent|x-[a-z0-9-]+)$/;

function transformRoutes(
  router: OpenAPIHono<TrackEnv>,
  transforms: Transforms,
  limit: MiddlewareHandler,
  connection: (c: Context<TrackEnv>, app: string) => TrackConnection,
): void {
  const kinds: Array<[TransformKind, string]> = [
    ["webhook", "webhooks"],
    ["agent", "agents"],
    ["lambda", "lambda"],
  ];
  for (const [kind, segment] of kinds) {
    if (kind !== "webhook") {
      for (const method of ["get", "post", "put", "delete", "patch"] as const) {
        router.openAPIRegistry.registerPath({
          method,
          path: `/{app}/${segment}/{module}`,
          summary: `Run the app's ${kind} module (needs allowed_run)`,
          description:
            "Runs the module with the request as its input `{method, path, query, headers, body}`; its `$response` cell `{status?, headers?, body}` is the answer.",
          request: {
            params: AppParam.extend({
              module: z.string().openapi({ param: { name: "module", in: "path" } }),
            }),
          },
          responses: {
            200: { description: "The module's answer" },
            ...errorResponses(400, 404, 413),
          },
        });
      }
    }
    router.on(["GET", "POST", "PUT", "DELETE", "PATCH"], `/:app/${segment}/:module`, limit, async (c) => {
      const app = c.req.param("app");
      const conn = connection(c, app);
      // A webhook is called by the id the app registered, never by a module name.
      const webhook =
        kind === "webhook"
          ? await transforms.webhooks.resolve(conn.user, app, c.req.param("module"))
          : undefined;
      const module = webhook?.module ?? c.req.param("module");
      if (!MODULE_NAME.test(module)) throw new TrackError("Track-badMessage", "bad module name");
      const raw = c.req.method === "GET" ? "" : (await readBody(c)).toString("utf8");
      const headers: MixMap = {};
      c.req.raw.headers.forEach((v, k) => {
        if (SAFE_REQUEST_HEADERS.test(k)) headers[k] = v;
      });
      let body: MixMap[string] = raw;
      if (raw !== "" && /json/i.test(c.req.header("content-type") ?? "")) {
        try {
          body = JSON.parse(raw) as MixMap[string];
        } catch {
          throw new TrackError("Track-badMessage", "invalid JSON body");
        }
      }
      const input: MixMap = {
        ...(webhook ? { webhook: webhook.id } : {}),
        method: c.req.method,
        path: c.req.path,
        query: c.req.query() as MixMap,
        headers,
        body,
      };
      const result = await transforms.run(kind, { user: conn.user, token: conn.token, app, module, input });
      const text = typeof result.body === "string" ? result.body : JSON.stringify(result.body);
      return c.body(text, result.status as 200, result.headers);
    });
  }
}

const WebhookSchema = z
  .object({
    id: z.string(),
    module: z.string(),
    description: z.string().optional(),
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .openapi("Webhook");
const WebhookIdParam = z.object({
  id: z
    .string()
    .regex(WEBHOOK_ID)
    .openapi({ param: { name: "id", in: "path" } }),
});

/**
 * The webhook registry's routes (`allowed_build` on the app): list, register (a random id, or
 * one the builder chooses), delete. The call itself, `/{app}/webhooks/{id}`, is described here
 * too; it runs in `transformRoutes`.
 */
function webhookRoutes(
  router: OpenAPIHono<TrackEnv>,
  transforms: Transforms,
  limit: MiddlewareHandler,
): void {
  const { webhooks } = transforms;
  router.openapi(
    createRoute({
      method: "get",
      path: "/x/apps/{app}/webhooks",
      summary: "The app's registered webhooks (needs allowed_build)",
      request: { params: AppParam },
      responses: {
        200: {
          description: "Webhooks",
          content: { "application/json": { schema: z.object({ webhooks: z.array(WebhookSchema) }) } },
        },
        ...errorResponses(403, 404),
      },
    }),
    async (c) => c.json({ webhooks: await webhooks.list(userOf(c), c.req.valid("param").app) }, 200),
  );
  router.openapi(
    createRoute({
      method: "post",
      path: "/x/apps/{app}/webhooks",
      summary: "Register a webhook: /{app}/webhooks/{id} will run `module` (needs allowed_build)",
      description:
        "Without `id` the server draws an unguessable one (22 base62 characters, about 131 bits); a builder may choose one instead.",
      middleware: [limit] as const,
      request: {
        params: AppParam,
        body: {
          required: true,
          content: {
            "application/json": {
              schema: z.object({
                module: z.string().regex(MODULE_NAME, "a module name"),
                id: z.string().regex(WEBHOOK_ID, "1-128 letters, digits, '_' or '-'").optional(),
                description: z.string().max(500).optional(),
              }),
            },
          },
        },
      },
      responses: {
        201: jsonResponse("Registered", WebhookSchema),
        ...errorResponses(400, 403, 404, 409, 413, 415),
      },
    }),
    async (c) => {
      const { module, id, description } = c.req.valid("json");
      const hook = await webhooks.register(userOf(c), c.req.valid("param").app, {
        module,
        ...(id !== undefined ? { id } : {}),
        ...(description !== undefined ? { description } : {}),
      });
      return c.json(hook, 201);
    },
  );
  router.openapi(
    createRoute({
      method: "delete",
      path: "/x/apps/{app}/webhooks/{id}",
      summary: "Remove a webhook (needs allowed_build)",
      request: { params: AppParam.merge(WebhookIdParam) },
      responses: {
        204: { description: "Removed" },
        ...errorResponses(403, 404),
      },
    }),
    async (c) => {
      const { app, id } = c.req.valid("param");
      await webhooks.remove(userOf(c), app, id);
      return c.body(null, 204);
    },
  );
  for (const method of ["get", "post", "put", "delete", "patch"] as const) {
    router.openAPIRegistry.registerPath({
      method,
      path: "/{app}/webhooks/{id}",
      summary: "Call a webhook the app registered (needs allowed_run)",
      description:
        "Runs the registered module with the request as its input `{webhook, method, path, query, headers, body}`; its `$response` cell `{status?, headers?, body}` is the answer.",
      request: { params: AppParam.merge(WebhookIdParam) },
      responses: {
        200: { description: "The module's answer" },
        ...errorResponses(404, 413),
      },
    });
  }
}

function proxyRoutes(
  router: OpenAPIHono<TrackEnv>,
  proxy: NonNullable<TrackRoutesOptions["proxy"]>,
  limit: MiddlewareHandler,
  protocol: TrackProtocol,
): void {
  for (const method of ["get", "post", "put", "delete", "patch"] as const) {
    router.openAPIRegistry.registerPath({
      method,
      path: "/{app}/proxy/{remote}/{path}",
      summary: "Forward a request to a configured remote (needs allowed_run)",
      description: `Remotes: ${Object.keys(proxy.remotes).join(", ")}. Only content-type and accept are forwarded; the token query parameter is dropped.`,
      request: {
        params: AppParam.extend({
          remote: z.string().openapi({ param: { name: "remote", in: "path" } }),
          path: z.string().openapi({ param: { name: "path", in: "path" } }),
        }),
      },
      responses: {
        200: { description: "The remote's answer (status and content-type passed through)" },
        ...errorResponses(404, 413),
      },
    });
  }
  router.all("/:app/proxy/:remote/*", limit, async (c) => {
    const user = userOf(c);
    const app = c.req.param("app");
    if (!protocol.apps.can(user, app, "allowed_run")) {
      throw new TrackError("Track-noApp", "no such app");
    }
    const remote = c.req.param("remote");
    const base = Object.hasOwn(proxy.remotes, remote) ? proxy.remotes[remote] : undefined;
    if (base === undefined) throw new TrackError("Track-noApp", `no remote ${remote}`);
    const prefix = `/${app}/proxy/${remote}/`;
    const rest = c.req.path.startsWith(prefix) ? c.req.path.slice(prefix.length) : "";
    // Encoded separators or dot segments could leave the remote's base once the remote decodes them.
    if (/%2f|%5c|\\/i.test(rest) || rest.split("/").some((seg) => /^(\.|%2e){1,2}$/i.test(seg))) {
      throw new TrackError("Track-outboundDenied", "the path leaves the remote");
    }
    const target = new URL(rest, base.endsWith("/") ? base : `${base}/`);
    if (!target.href.startsWith(new URL(base).href.replace(/\/?$/, "/")) && target.href !== base) {
      throw new TrackError("Track-outboundDenied", "the path leaves the remote");
    }
    target.search = new URL(c.req.url).search;
    target.searchParams.delete("token");
    const body = ["GET", "HEAD"].includes(c.req.method) ? undefined : new Uint8Array(await readBody(c));
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((v, k) => {
      if (k === "content-type" || k === "accept") headers[k] = v;
    });
    const res = await proxy.outbound.request({ method: c.req.method, url: target.toString(), headers, body });
    const out: Record<string, string> = {};
    if (res.headers["content-type"]) out["content-type"] = res.headers["content-type"];
    return c.body(new Uint8Array(res.body), res.status as 200, out);
  });
}
