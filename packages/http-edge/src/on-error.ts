import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context, Env, ErrorHandler, MiddlewareHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { bodyLimitExceeded } from "./body-limit.js";
import { BodyTooLargeError, codeForStatus, errorBody, HttpError } from "./errors.js";
import { validationHook } from "./openapi.js";

/** What the edge logs with: pino's `Logger` fits. */
export interface EdgeLogger {
  error(object: object, message: string): void;
  debug(object: object, message: string): void;
}

const LOGGER = "ampEdgeLogger";

/**
 * Makes `logger` the edge's logger for every route behind it: the server mounts it once, so a
 * package's routes log their 5xx even when the package was given no logger.
 */
export function edgeLogger(logger: EdgeLogger): MiddlewareHandler {
  return async (c, next) => {
    c.set(LOGGER as never, logger as never);
    await next();
  };
}

/** The logger `edgeLogger` put on this request, if any. */
export function edgeLoggerOf(c: Context): EdgeLogger | undefined {
  return c.get(LOGGER as never) as EdgeLogger | undefined;
}

export interface ErrorHandlerOptions {
  /** Where a 5xx is logged, with its cause; default the one `edgeLogger` put on the request, if any. */
  readonly logger?: EdgeLogger;
  /** Names the failing side in the log line, e.g. "apps" → "apps route failed". */
  readonly scope?: string;
  /** Turns a package's errors that are not `HttpError`s into one; undefined leaves them to the edge. */
  readonly map?: (error: Error) => HttpError | undefined;
}

/** An error as the edge answers it. */
function classify(error: Error, c: Context, map: ErrorHandlerOptions["map"]): HttpError {
  const limit = bodyLimitExceeded(c);
  // A body that went past its limit is a 413, whatever the reader made of the cut stream.
  if (limit !== undefined) return error instanceof BodyTooLargeError ? error : new BodyTooLargeError(limit);
  if (error instanceof HttpError) return error;
  const mapped = map?.(error);
  if (mapped) return mapped;
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    const message = /malformed json/i.test(error.message)
      ? "invalid JSON body"
      : error.message || (status === 415 ? "unsupported media type" : "request failed");
    return new HttpError(status, codeForStatus(status), message, { cause: error });
  }
  return new HttpError(500, "internal", "internal error", { cause: error });
}

/**
 * The one `onError`: `HttpError` (and every package error that extends it), Hono's
 * `HTTPException`, and a body past its limit answer `{error: {code, message}}` with their
 * status. A 5xx is logged with its cause (the path, never the query, which may hold a token);
 * the client gets the code and message, never a stack. A client's mistake (4xx) is logged at
 * debug level only.
 */
export function errorHandler(options: ErrorHandlerOptions = {}): ErrorHandler {
  return (error, c) => {
    const answer = classify(error, c, options.map);
    const logger = options.logger ?? edgeLoggerOf(c);
    const where = { method: c.req.method, path: c.req.path, status: answer.status, code: answer.code };
    if (answer.status >= 500) {
      const cause = answer === error ? (error.cause ?? error) : error;
      logger?.error({ err: cause, ...where }, `${options.scope ?? "http"} route failed`);
    } else {
      logger?.debug({ ...where, message: answer.message }, "request refused");
    }
    for (const [name, value] of Object.entries(answer.headers)) c.header(name, value);
    return c.json(errorBody(answer.code, answer.message), answer.status);
  };
}

/** 404 `not_found` for a path no route serves. */
export const notFoundHandler: NotFoundHandler = (c) =>
  c.json(errorBody("not_found", `no route for ${c.req.method} ${c.req.path}`), 404);

/**
 * An OpenAPIHono app on the edge: the one zod hook and the one `onError`. Every package's
 * `http.ts` starts from it.
 */
export function edgeApp<E extends Env = Env>(options: ErrorHandlerOptions = {}): OpenAPIHono<E> {
  const app = new OpenAPIHono<E>({ defaultHook: validationHook });
  app.onError(errorHandler(options));
  return app;
}
