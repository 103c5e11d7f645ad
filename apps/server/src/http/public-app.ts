import { defaultBodyLimit, edgeLogger } from "@amp/http-edge";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { Logger } from "pino";
import type { ServerMetrics } from "../admin/metrics.js";
import { type ServerConfig, STATIC_MOUNTS, type StaticMountSetting } from "../config/schema.js";
import { consoleRoutes } from "./console.js";
import { corsMiddleware, type OriginPolicy, webSocketOriginCheck } from "./cors.js";
import { errorHandler, errorResponse, notFoundHandler, validationHook } from "./errors.js";
import { healthRoutes, type Phase } from "./health.js";
import { describeApi, OPENAPI_PATH } from "./openapi.js";
import { requestLog } from "./request-log.js";
import { type ServerInfo, serverInfoRoutes } from "./server-info.js";
import { staticFolder } from "./static-files.js";
import { welcomeRoutes } from "./welcome.js";

/** Paths that answer whatever the phase, so probes and clients can see what is going on. */
const ALWAYS_OPEN = ["/x/health/", "/x/serverinfo", OPENAPI_PATH];

export interface PublicAppOptions {
  config: ServerConfig;
  logger: Logger;
  metrics: ServerMetrics;
  phase: () => Phase;
  info: () => ServerInfo;
}

/**
 * The app of the public port, before any component routes: metrics, request log, CORS
 * (`--cors-origins`) and the WebSocket origin check, the default body limit, a gate answering 503
 * until ready, health, serverinfo, the OpenAPI document and, in solo mode, the static folders.
 * Errors go through `@amp/http-edge`: every package's routes log their 5xx through this logger.
 */
export function createPublicApp(options: PublicAppOptions): OpenAPIHono {
  const { config, logger } = options;
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.onError(errorHandler(logger));
  app.notFound(notFoundHandler);

  app.use(edgeLogger(logger));
  app.use(options.metrics.middleware());
  app.use(requestLog(logger));
  const origins: OriginPolicy = {
    origins: config.corsOrigins,
    ownOrigin: () => new URL(options.info().baseURL).origin,
  };
  app.use(corsMiddleware(origins));
  app.use(webSocketOriginCheck(origins));
  // The limit of routes that declare none; a route's own (e.g. 256 MiB for a .remix import)
  // replaces it. Also drains a small unread body, or closes, so keep-alive holds.
  app.use(defaultBodyLimit(config.bodyLimitBytes));
  app.use(readinessGate(options.phase));

  // Browsers ask for it on their own; without this it would be read as an app name (400).
  app.get("/favicon.ico", notFoundHandler);
  app.route("/", healthRoutes(options.phase));
  app.route("/", serverInfoRoutes(options.info));
  app.route("/", consoleRoutes());
  app.route("/", welcomeRoutes(options.info));
  app.get(OPENAPI_PATH, (c) =>
    c.json(
      describeApi(
        app.getOpenAPI31Document({
          openapi: "3.1.0",
          info: { title: "amp", version: options.info().build, description: "The Remix platform server" },
          servers: [{ url: options.info().baseURL }],
        }),
      ),
    ),
  );

  if (config.solo) {
    for (const [setting, prefix] of Object.entries(STATIC_MOUNTS) as [StaticMountSetting, string][]) {
      const root = config[setting];
      if (root) app.route("/", staticFolder(prefix, root));
    }
  }
  return app;
}

function readinessGate(phase: () => Phase): MiddlewareHandler {
  return async (c, next) => {
    const now = phase();
    if (now === "ready" || ALWAYS_OPEN.some((p) => c.req.path.startsWith(p))) return next();
    if (now === "stopping" || now === "stopped") c.header("connection", "close");
    return errorResponse(c, 503, "not_ready", `amp is ${now}`);
  };
}
