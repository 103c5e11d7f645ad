import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { ErrorBodySchema } from "./errors.js";

const HealthSchema = z.object({ status: z.enum(["ok"]) }).openapi("Health");

const live = createRoute({
  method: "get",
  path: "/x/health/live",
  summary: "Liveness: the process answers HTTP",
  tags: ["health"],
  responses: { 200: { description: "alive", content: { "application/json": { schema: HealthSchema } } } },
});

const ready = createRoute({
  method: "get",
  path: "/x/health/ready",
  summary: "Readiness: every component has started and the server is not stopping",
  tags: ["health"],
  responses: {
    200: { description: "ready", content: { "application/json": { schema: HealthSchema } } },
    503: {
      description: "starting or stopping",
      content: { "application/json": { schema: ErrorBodySchema } },
    },
  },
});

export type Phase = "idle" | "starting" | "ready" | "stopping" | "stopped";

export function healthRoutes(phase: () => Phase) {
  return new OpenAPIHono()
    .openapi(live, (c) => c.json({ status: "ok" as const }, 200))
    .openapi(ready, (c) => {
      const now = phase();
      if (now === "ready") return c.json({ status: "ok" as const }, 200);
      return c.json({ error: { code: "not_ready", message: `amp is ${now}` } }, 503);
    });
}
