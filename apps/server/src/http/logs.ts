import type { AuthVariables } from "@amp/auth";
import { edgeApp, errorResponses, httpError, jsonResponse } from "@amp/http-edge";
import { createRoute, z } from "@hono/zod-openapi";
import type { Logger } from "pino";
import { LOG_LEVELS, type LogLevelName, type LogRing } from "../logging/recent-lines.js";

const LEVEL_NAMES = Object.keys(LOG_LEVELS) as [LogLevelName, ...LogLevelName[]];

const LogLineSchema = z
  .object({
    seq: z.number().int().openapi({ description: "grows by one per line this process wrote" }),
    level: z.enum(LEVEL_NAMES),
    line: z.string().openapi({ description: "the JSON line as logged (redacted), cut at 8 KiB" }),
    truncated: z.boolean(),
  })
  .openapi("LogLine");

const logsRoute = createRoute({
  method: "get",
  path: "/x/logs",
  summary: "The server's recent log lines, redacted as logged (root only)",
  request: {
    query: z.object({
      level: z.enum(LEVEL_NAMES).optional().openapi({ description: "this level and above; default all" }),
      limit: z.coerce.number().int().min(1).max(1000).default(200),
    }),
  },
  responses: {
    200: jsonResponse("Lines, oldest first", z.object({ lines: z.array(LogLineSchema) })),
    ...errorResponses(400, 401, 403),
  },
});

/**
 * `GET /x/logs?level=&limit=`: the last lines of this process's log (the `LogRing` the logger
 * writes to, after its redaction), for root's console; live lines go on `$amp/logs/<level>`.
 */
export function logsRoutes(ring: Pick<LogRing, "recent">, logger: Logger) {
  const app = edgeApp<{ Variables: Partial<AuthVariables> }>({ logger, scope: "logs" });
  app.openapi(logsRoute, (c) => {
    const user = c.get("user");
    if (!user || user.anonymous) throw httpError("unauthenticated", "sign in as root to see the logs");
    if (!user.root) throw httpError("forbidden", "only root sees the server's logs");
    const { level, limit } = c.req.valid("query");
    c.header("Cache-Control", "no-store");
    return c.json({ lines: ring.recent({ level, limit }) }, 200);
  });
  return app;
}
