import { errorResponses as edgeErrorResponses, httpError } from "@amp/http-edge";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "@hono/zod-openapi";
import type { Context, Env } from "hono";
import type { ActingUser } from "../acl/user.js";
import type { Apps } from "../apps.js";
import { checkAppName } from "../names.js";

/** Hono variables the routes read: the acting user, set by `@amp/auth`'s middleware. */
export interface AppsEnv extends Env {
  Variables: { user: ActingUser };
}

export interface HttpLimits {
  /** Largest JSON request body (default 1 MiB). Each route declares its limit from these. */
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

/** The error answers of an apps route: bad input, a missing role, no such app or item. */
export const errorResponses = edgeErrorResponses(400, 403, 404);
/** The error answers of a route that takes a body: past its limit, or of a type it does not take. */
export const bodyErrors = edgeErrorResponses(413, 415);

export const AppParam = z.object({
  app: z
    .string()
    .max(100)
    .openapi({ param: { name: "app", in: "path" }, example: "my_app" }),
});

/** Tagged-JSON document (Mix map). */
export const DocumentSchema = z.record(z.string(), z.unknown()).openapi("Document");

/** The acting user; the auth middleware must have set one. */
export function actingUser(c: Context<AppsEnv>): ActingUser {
  const user = c.get("user");
  if (!user) throw httpError("unauthenticated", "no user on the request (is the auth middleware mounted?)");
  return user;
}

export function appName(c: Context<AppsEnv>): string {
  return checkAppName(c.req.param("app") ?? "");
}
