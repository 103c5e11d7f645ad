import { bodyLimit, type EdgeLogger, edgeApp } from "@amp/http-edge";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AmpUser, AuthVariables } from "../../user.js";

export { errorResponses } from "@amp/http-edge";

export type LoginEnv = { Variables: AuthVariables };

/** The largest body a login route takes (a form post, a passkey assertion, a plugin configuration). */
export const MAX_LOGIN_BODY_BYTES = 64 * 1024;
/** The body limit of every login route that takes a body, in its declaration. */
export const loginBodyLimit = bodyLimit(MAX_LOGIN_BODY_BYTES);

/** An OpenAPIHono app on the HTTP edge (one zod hook, one onError), scoped "login". */
export function loginApp(logger?: EdgeLogger): OpenAPIHono<LoginEnv> {
  return edgeApp<LoginEnv>({ ...(logger ? { logger } : {}), scope: "login" });
}

/** The acting user; without the auth middleware in front, an anonymous caller. */
export function actingUser(c: Context<LoginEnv>): AmpUser {
  return c.get("user") ?? { id: "anon", anonymous: true, root: false, claims: {} };
}
