import type { AuthVariables } from "@amp/auth";
import { edgeApp, errorResponses, httpError, jsonResponse } from "@amp/http-edge";
import { createRoute, z } from "@hono/zod-openapi";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { LIVE_GAUGES } from "../compose/live-gauges.js";

/** The figures answered, each the sum of one Prometheus metric's series (`null` when not registered). */
const FIGURES = {
  requests: "amp_http_requests_total",
  sessions: LIVE_GAUGES.sessions,
  vmMemoryBytes: LIVE_GAUGES.vmMemory,
  processMemoryBytes: "process_resident_memory_bytes",
  brokerClients: LIVE_GAUGES.brokerClients,
  brokerMessages: LIVE_GAUGES.brokerMessages,
} as const;
type Figure = keyof typeof FIGURES;

const Value = z.number().nullable();
const SummarySchema = z
  .object({
    at: z.string().openapi({ format: "date-time" }),
    ...(Object.fromEntries(Object.keys(FIGURES).map((k) => [k, Value])) as Record<Figure, typeof Value>),
  })
  .openapi("MetricsSummary", {
    description:
      "requests: HTTP requests answered on this port since start (a counter); sessions: live VM sessions; " +
      "vmMemoryBytes: the Groovebox VMs' linear memory (null without --groovebox); processMemoryBytes: the " +
      "process's resident memory; brokerClients: connected MQTT clients; brokerMessages: messages published through the broker since start (a counter). All of this node.",
  });

const summaryRoute = createRoute({
  method: "get",
  path: "/x/metrics/summary",
  summary: "A few of the Prometheus figures of the admin port's /metrics, for root's console",
  responses: { 200: jsonResponse("the figures now", SummarySchema), ...errorResponses(401, 403) },
});

/**
 * `GET /x/metrics/summary`: the figures the console charts, read from the same registry as the
 * admin port's `/metrics`, on the public port with a root token (a page cannot reach the admin port).
 */
export function metricsSummaryRoutes(registry: Registry, logger: Logger) {
  const app = edgeApp<{ Variables: Partial<AuthVariables> }>({ logger, scope: "metrics" });
  app.openapi(summaryRoute, async (c) => {
    const user = c.get("user");
    if (!user || user.anonymous) throw httpError("unauthenticated", "sign in as root to see the metrics");
    if (!user.root) throw httpError("forbidden", "only root sees the server's metrics");
    const entries = await Promise.all(
      (Object.entries(FIGURES) as [Figure, string][]).map(async ([figure, name]) => {
        const metric = registry.getSingleMetric(name);
        if (!metric) return [figure, null] as const;
        const { values } = await metric.get();
        return [figure, values.reduce((sum, v) => sum + v.value, 0)] as const;
      }),
    );
    c.header("Cache-Control", "no-store");
    return c.json(
      { at: new Date().toISOString(), ...Object.fromEntries(entries) } as z.infer<typeof SummarySchema>,
      200,
    );
  });
  return app;
}
