import { z } from "@hono/zod-openapi";
import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "pino";

/** The one error shape every amp route answers with. */
export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "not_found" }),
      message: z.string().openapi({ example: "no route for GET /nope" }),
    }),
  })
  .openapi("Error");

/**
 * An error a route throws on purpose: its status, stable code and message reach the
 * client as they are. Packages may throw their own classes: any error with a numeric
 * `status` (400-599) and a string `code` is answered the same way.
 */
export class HttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export function errorResponse(c: Context, status: ContentfulStatusCode, code: string, message: string) {
  return c.json({ error: { code, message } }, status);
}

interface ErrorWithStatus {
  status: ContentfulStatusCode;
  code: string;
  message: string;
}

function hasStatusAndCode(error: unknown): error is ErrorWithStatus {
  const e = error as Partial<ErrorWithStatus> | null;
  return (
    typeof e === "object" &&
    e !== null &&
    typeof e.status === "number" &&
    e.status >= 400 &&
    e.status <= 599 &&
    typeof e.code === "string"
  );
}

const HTTP_EXCEPTION_CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  413: "payload_too_large",
};

/** Turns any thrown error into `{error:{code,message}}`; unexpected ones are logged, never echoed. */
export function errorHandler(logger: Logger): ErrorHandler {
  return (error, c) => {
    if (hasStatusAndCode(error)) return errorResponse(c, error.status, error.code, error.message);
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      return errorResponse(
        c,
        status,
        HTTP_EXCEPTION_CODES[status] ?? "http_error",
        error.message || "request failed",
      );
    }
    logger.error({ err: error, method: c.req.method, url: c.req.url }, "unhandled error in a route");
    return errorResponse(c, 500, "internal", "internal server error");
  };
}

export const notFoundHandler: NotFoundHandler = (c) =>
  errorResponse(c, 404, "not_found", `no route for ${c.req.method} ${c.req.path}`);

/** The OpenAPIHono default hook: a request that fails its zod schema gets a 400 naming the field. */
export function validationHook(
  result: { success: true } | { success: false; error: z.ZodError },
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  return errorResponse(c, 400, "invalid_request", `${where}${issue?.message ?? "invalid request"}`);
}
