import { OpenAPIHono } from "@hono/zod-openapi";
import type { Logger } from "pino";
import { errorHandler, notFoundHandler, validationHook } from "../http/errors.js";
import type { AdminAuthorizer } from "./authorize.js";
import { debugRoutes, type InspectorSessions } from "./debug.js";
import type { ServerMetrics } from "./metrics.js";

export interface AdminAppOptions {
  logger: Logger;
  metrics: ServerMetrics;
  authorize: AdminAuthorizer;
  /** Whether an admin credential or authorizer is set (changes the refusal message only). */
  authorizeConfigured: boolean;
  inspector: InspectorSessions;
}

/** The app of the admin port: Prometheus metrics and the debug routes. */
export function createAdminApp(options: AdminAppOptions): OpenAPIHono {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.onError(errorHandler(options.logger));
  app.notFound(notFoundHandler);
  app.get("/metrics", async (c) =>
    c.body(await options.metrics.text(), 200, { "content-type": options.metrics.contentType }),
  );
  app.route(
    "/",
    debugRoutes(options.authorize, options.authorizeConfigured, options.logger, options.inspector),
  );
  return app;
}
