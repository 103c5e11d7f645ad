import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import type { Context, Env } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { ActingUser } from "../acl/user.js";
import type { Apps } from "../apps.js";
import { AppsError } from "../errors.js";
import { checkAppName } from "../names.js";
import { QueryError } from "../query/index.js";

/** Hono variables the routes read: the acting user, set by `@amp/auth`'s middleware. */
export interface AppsEnv extends Env {
  Variables: { user: ActingUser };
}

export interface HttpLimits {
  /** Largest JSON request body (default 1 MiB). */
  readonly maxJsonBytes: number;
  /** Largest uploaded user file (default 32 MiB). */
  readonly maxFileBytes: number;
  /** Largest uploaded `.remix` archive, compressed (default 256 MiB). */
  readonly maxArchiveBytes: number;
  /** Longest query string (default 16 KiB). */
  readonly maxQueryLength: number;
  /** Most documents a list request returns (default 1000). */
  readonly maxListLimit: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxJsonBytes: 1024 * 1024,
  maxFileBytes: 32 * 1024 * 1024,
  maxArchiveBytes: 256 * 1024 * 1024,
  maxQueryLength: 16 * 1024,
  maxListLimit: 1000,
};

export interface RouteContext {
  readonly apps: Apps;
  readonly limits: HttpLimits;
}

export type AppsRouter = OpenAPIHono<AppsEnv>;

export const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .openapi("AppsError");

export const errorResponses = {
  400: { description: "Bad input", content: { "application/json": { schema: ErrorSchema } } },
  403: {
    description: "The user knows the app but lacks the role",
    content: { "application/json": { schema: ErrorSchema } },
  },
  404: {
    description: "No such app (or not visible to the user), or no such item",
    content: { "application/json": { schema: ErrorSchema } },
  },
} as const;

export const AppParam = z.object({
  app: z
    .string()
    .max(100)
    .openapi({ param: { name: "app", in: "path" }, example: "my_app" }),
});

/** Tagged-JSON document (Mix map). */
export const DocumentSchema = z.record(z.string(), z.unknown()).openapi("Document");

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** The acting user; the auth middleware must have set one. */
export function actingUser(c: Context<AppsEnv>): ActingUser {
  const user = c.get("user");
  if (!user)
    throw new HTTPException(401, { message: "no user on the request (is the auth middleware mounted?)" });
  return user;
}

export function appName(c: Context<AppsEnv>): string {
  return checkAppName(c.req.param("app") ?? "");
}

/** Maps every error to `{error:{code,message}}` with its status; never a stack. */
export function handleError(apps: Apps) {
  return (err: Error, c: Context<AppsEnv>) => {
    if (err instanceof AppsError) return c.json(errorBody(err.code, err.message), err.status as 400);
    if (err instanceof QueryError) return c.json(errorBody(err.code, err.message), 400);
    if (err instanceof HTTPException) {
      const code = err.status === 401 ? "unauthenticated" : err.status === 413 ? "too_large" : "bad_request";
      const message = /malformed json/i.test(err.message) ? "invalid JSON body" : err.message;
      return c.json(errorBody(code, message), err.status);
    }
    apps.logger.error({ err, path: c.req.path }, "apps route failed");
    return c.json(errorBody("internal", "internal error"), 500);
  };
}

/** zod validation failures become 400 `bad_request` with the first issue named. */
export function validationHook(
  result:
    | { success: true }
    | { success: false; error: { issues: readonly { path: PropertyKey[]; message: string }[] } },
  c: Context<AppsEnv>,
) {
  if (result.success) return;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join(".")}: ` : "";
  return c.json(errorBody("bad_request", `${where}${issue?.message ?? "invalid request"}`), 400);
}

export function jsonBodyLimit(limits: HttpLimits) {
  return bodyLimit({
    maxSize: limits.maxJsonBytes,
    onError: (c) => c.json(errorBody("too_large", `body larger than ${limits.maxJsonBytes} bytes`), 413),
  });
}

/**
 * The request body as chunks, refused (`too_large`) as soon as it passes `max`
 * bytes: nothing beyond the limit is read or buffered.
 */
export async function* bodyChunks(c: Context<AppsEnv>, max: number): AsyncGenerator<Uint8Array> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > max) throw new AppsError("too_large", `body larger than ${max} bytes`);
  const body = c.req.raw.body;
  if (!body) return;
  let size = 0;
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      size += value.byteLength;
      if (size > max) throw new AppsError("too_large", `body larger than ${max} bytes`);
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

export async function readBodyLimited(c: Context<AppsEnv>, max: number): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  for await (const part of bodyChunks(c, max)) parts.push(part);
  return parts;
}
