import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { errorBody, type HttpError, httpError } from "./errors.js";

/** The OpenAPI component of the error envelope (`#/components/schemas/Error`), one for every route. */
export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "not_found", description: "stable; see the table of error codes" }),
      message: z.string().openapi({ example: "no route for GET /nope" }),
    }),
  })
  .openapi("Error");

const DESCRIPTIONS: Record<number, string> = {
  400: "Bad input (`bad_request` or the package's own code)",
  401: "No valid credential (`unauthenticated`, `token_*`)",
  403: "Not allowed (`forbidden` or the package's own code)",
  404: "No such thing, or not visible to the user",
  409: "Conflicts with what is stored",
  413: "The body is larger than this route takes (`too_large`)",
  415: "A content type this route does not take (`unsupported_media_type`)",
  429: "Too many requests (`rate_limited`)",
  500: "Internal error (`internal`; logged, never detailed)",
  502: "A service behind amp failed",
  503: "Not ready or unavailable",
};

export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 429 | 500 | 501 | 502 | 503 | 504;

/** OpenAPI descriptions of the error answers a route may give, each with the `Error` schema. */
export function errorResponses<S extends ErrorStatus>(...statuses: S[]): Record<S, ErrorResponse> {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: DESCRIPTIONS[status] ?? "`{error: {code, message}}`",
        content: { "application/json": { schema: ErrorSchema } },
      },
    ]),
  ) as Record<S, ErrorResponse>;
}

/** An error answer in an OpenAPI route declaration. */
export interface ErrorResponse {
  description: string;
  content: { "application/json": { schema: typeof ErrorSchema } };
}

/** A described error answer with the `Error` schema, for a route's own wording. */
export function errorResponse(description: string): ErrorResponse {
  return { description, content: { "application/json": { schema: ErrorSchema } } };
}

/** A required JSON request body of `schema` (OpenAPI and zod validation from the one schema). */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true as const, content: { "application/json": { schema } } };
}

/** A JSON response of `schema`. */
export function jsonResponse<T extends z.ZodType>(description: string, schema: T) {
  return { description, content: { "application/json": { schema } } };
}

/** A binary response (a file, a blob, an archive) under `mediaType`. */
export function binaryResponse<M extends string = "application/octet-stream">(
  description: string,
  mediaType: M = "application/octet-stream" as M,
) {
  const schema = z.string().openapi({ format: "binary" });
  return { description, content: { [mediaType]: { schema } } as Record<M, { schema: typeof schema }> };
}

export interface ValidationResult {
  success: boolean;
  error?: { issues: readonly { path: readonly PropertyKey[]; message: string }[] };
}

/** The 400 `bad_request` a failed validation answers, naming the first issue as `path: message`. */
export function validationError(result: ValidationResult): HttpError | undefined {
  if (result.success) return undefined;
  const issue = result.error?.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ` : "";
  return httpError("bad_request", `${where}${issue?.message ?? "invalid request"}`);
}

/**
 * The one zod validation hook (OpenAPIHono's `defaultHook`): a request that fails its schema
 * answers 400 `bad_request` with `path: message` of the first issue.
 */
export function validationHook(result: ValidationResult, c: Context): Response | undefined {
  const error = validationError(result);
  return error ? c.json(errorBody(error.code, error.message), 400) : undefined;
}
