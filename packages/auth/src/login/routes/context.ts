import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AmpUser, AuthVariables } from "../../user.js";
import { errorBody, LoginError } from "../errors.js";

export type LoginEnv = { Variables: AuthVariables };

/** An OpenAPIHono app whose zod validation failures answer 400 `invalid_request`. */
export function loginApp(): OpenAPIHono<LoginEnv> {
  return new OpenAPIHono<LoginEnv>({
    defaultHook: (result, c) => {
      if (result.success) return;
      const issue = result.error.issues[0];
      const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
      const error = new LoginError("invalid_request", `${where}${issue?.message ?? "invalid request"}`);
      return c.json(errorBody(error), 400);
    },
  });
}

/** The acting user; without the auth middleware in front, an anonymous caller. */
export function actingUser(c: Context<LoginEnv>): AmpUser {
  return c.get("user") ?? { id: "anon", anonymous: true, root: false, claims: {} };
}

const ErrorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .openapi("LoginError");

/** OpenAPI descriptions of the error answers a route may give. */
export function errorResponses(...statuses: (400 | 401 | 403 | 404 | 409 | 413 | 429 | 502)[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: "`{error: {code, message}}`", content: { "application/json": { schema: ErrorSchema } } },
    ]),
  );
}
