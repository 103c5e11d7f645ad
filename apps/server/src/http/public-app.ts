import { OpenAPIHono } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Logger } from "pino";
import type { ServerMetrics } from "../admin/metrics.js";
import { type ServerConfig, STATIC_MOUNTS, type StaticMountSetting } from "../config/schema.js";
import { corsMiddleware, type OriginPolicy, webSocketOriginCheck } from "./cors.js";
import { errorHandler, errorResponse, notFoundHandler, validationHook } from "./errors.js";
import { healthRoutes, type Phase } from "./health.js";
import { requestLog } from "./request-log.js";
import { type ServerInfo, serverInfoRoutes } from "./server-info.js";
import { staticFolder } from "./static-files.js";

export const OPENAPI_PATH = "/x/openapi.json";

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
 * (`--cors-origins`) and the WebSocket origin check, body limit, a gate answering 503 until ready, health, serverinfo, the OpenAPI document and,
 * in solo mode, the static folders.
 */
export function createPublicApp(options: PublicAppOptions): OpenAPIHono {
  const { config, logger } = options;
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.onError(errorHandler(logger));
  app.notFound(notFoundHandler);

  app.use(options.metrics.middleware());
  app.use(requestLog(logger));
  const origins: OriginPolicy = {
    origins: config.corsOrigins,
    ownOrigin: () => new URL(options.info().baseURL).origin,
  };
  app.use(corsMiddleware(origins));
  app.use(webSocketOriginCheck(origins));
  app.use(
    bodyLimit({
      maxSize: config.bodyLimitBytes,
      onError: (c) =>
        errorResponse(
          c,
          413,
          "payload_too_large",
          `request bodies are limited to ${config.bodyLimitBytes} bytes`,
        ),
    }),
  );
  app.use(readinessGate(options.phase));

  // Browsers ask for it on their own; without this it would be read as an app name (400).
  app.get("/favicon.ico", notFoundHandler);
  app.route("/", healthRoutes(options.phase));
  app.route("/", serverInfoRoutes(options.info));
  app.doc31(OPENAPI_PATH, () => ({
    openapi: "3.1.0",
    info: { title: "amp", version: options.info().build, description: "The Remix platform server" },
    servers: [{ url: options.info().baseURL }],
  }));

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
