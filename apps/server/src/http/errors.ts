import {
  ErrorSchema,
  errorHandler as edgeErrorHandler,
  notFoundHandler as edgeNotFoundHandler,
  validationHook as edgeValidationHook,
  errorBody,
  HttpError,
} from "@amp/http-edge";
import type { Context, ErrorHandler } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Logger } from "pino";

/**
 * The server's face of `@amp/http-edge`, the one HTTP edge every package serves through: the
 * error envelope and its OpenAPI schema, the error base, onError, 404 and the zod hook.
 */
export { HttpError };

/** The one error shape every amp route answers with (`#/components/schemas/Error`). */
export const ErrorBodySchema = ErrorSchema;

export function errorResponse(c: Context, status: ContentfulStatusCode, code: string, message: string) {
  return c.json(errorBody(code, message), status);
}

/** Turns any thrown error into `{error:{code,message}}`; a 5xx is logged with its cause, never echoed. */
export function errorHandler(logger: Logger): ErrorHandler {
  return edgeErrorHandler({ logger, scope: "amp" });
}

export const notFoundHandler = edgeNotFoundHandler;
export const validationHook = edgeValidationHook;
