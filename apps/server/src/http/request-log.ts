import type { MiddlewareHandler } from "hono";
import type { Logger } from "pino";

/**
 * One log line per request: method, URL (secret query values censored by the logger's
 * `url` serializer), status and duration. Health probes log at debug to keep logs quiet.
 * Headers are never logged.
 */
export function requestLog(logger: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const url = new URL(c.req.url);
    const level = url.pathname.startsWith("/x/health/") ? "debug" : "info";
    logger[level](
      {
        method: c.req.method,
        url: url.pathname + url.search,
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      },
      "request",
    );
  };
}
