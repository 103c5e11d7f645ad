import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/**
 * The Prometheus registry of one server: request counts and latencies by route, plus
 * Node's process figures. One per server, never prom-client's global registry, so two
 * servers in one process (tests, embedding) keep apart.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: "amp_http_requests_total",
    help: "HTTP requests answered, by route pattern, method and status",
    labelNames: ["route", "method", "status"] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: "amp_http_request_duration_seconds",
    help: "Time to answer an HTTP request, by route pattern, method and status",
    labelNames: ["route", "method", "status"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Counts and times every request that passes through it. */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const started = performance.now();
      try {
        await next();
      } finally {
        const series = this.series(routeLabel(c), c.req.method, c.res.status);
        series.requests.inc();
        series.latency.observe((performance.now() - started) / 1000);
      }
    };
  }

  /**
   * The bound series of one (route, method, status): prom-client hashes a labels object on every
   * `inc`/`observe`; the children are bound once. Routes are patterns, so the map stays small.
   */
  private readonly bound = new Map<
    string,
    { requests: { inc(): void }; latency: { observe(v: number): void } }
  >();

  private series(route: string, method: string, status: number) {
    const key = `${route} ${method} ${status}`;
    let series = this.bound.get(key);
    if (series === undefined) {
      const labels = { route, method, status: String(status) };
      series = { requests: this.requests.labels(labels), latency: this.latency.labels(labels) };
      this.bound.set(key, series);
    }
    return series;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * The route pattern that answered (e.g. "/x/health/ready", "/e/*"), never the raw path,
 * so the number of series stays bounded.
 */
function routeLabel(c: Context): string {
  if (c.res.status === 404) return "unmatched";
  const routes = matchedRoutes(c);
  const handler = routes.findLast((r) => r.method !== "ALL") ?? routes.at(-1);
  return handler?.path ?? "unmatched";
}
