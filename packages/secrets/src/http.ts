import {
  bodyLimit,
  type EdgeLogger,
  edgeApp,
  errorResponse,
  errorResponses,
  httpError,
  jsonBody,
  jsonResponse,
} from "@amp/http-edge";
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { SecretNotFoundError } from "./errors.js";
import { SECRET_NAME, type Secrets } from "./secrets.js";

/**
 * Decides whether `user` holds `role` on `app`. `@amp/apps` owns the ACL; the server
 * injects it. `user` is whatever the auth middleware put on the context (`c.get("user")`),
 * undefined when none ran.
 */
export type AuthorizeSecrets<User> = (
  user: User | undefined,
  app: string,
  role: "build",
) => boolean | Promise<boolean>;

export interface SecretsRoutesOptions<User> {
  secrets: Secrets;
  authorize: AuthorizeSecrets<User>;
  /** Where a failure (5xx) of a route is logged, with its cause. */
  logger?: EdgeLogger;
}

/** The largest body `PUT /x/secrets/{app}/{name}` takes: a value of 96 KiB, base64 and JSON around it. */
const MAX_BODY_BYTES = 128 * 1024;
const AppParam = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/)
  .openapi({ param: { name: "app", in: "path" }, example: "my-app" });
const NameParam = z
  .string()
  .regex(SECRET_NAME)
  .openapi({ param: { name: "name", in: "path" }, example: "STRIPE_KEY" });
const SecretInfoBody = z
  .object({ name: z.string(), version: z.string(), provider: z.string(), updatedAt: z.number() })
  .openapi("SecretInfo");
const SetSecretBody = z
  .object({
    value: z.string().max(96 * 1024),
    encoding: z.enum(["utf8", "base64"]).default("utf8"),
  })
  .openapi("SetSecret");

const errors = {
  ...errorResponses(400),
  401: errorResponse("no user (`unauthenticated`)"),
  403: errorResponse("no build role on the app (`forbidden`)"),
};

const listRoute = createRoute({
  method: "get",
  path: "/x/secrets/{app}",
  summary: "List the names of an app's secrets (never their values)",
  request: { params: z.object({ app: AppParam }) },
  responses: {
    200: jsonResponse("the secrets' names and key versions", z.object({ secrets: z.array(SecretInfoBody) })),
    ...errors,
  },
});

const setRoute = createRoute({
  method: "put",
  path: "/x/secrets/{app}/{name}",
  summary: "Set a secret; the value is write-only over HTTP",
  middleware: [bodyLimit(MAX_BODY_BYTES)] as const,
  request: {
    params: z.object({ app: AppParam, name: NameParam }),
    body: jsonBody(SetSecretBody),
  },
  responses: {
    200: jsonResponse("stored", SecretInfoBody),
    413: errorResponse("body or value too large (`too_large`, `secret_too_large`)"),
    ...errorResponses(415),
    ...errors,
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/x/secrets/{app}/{name}",
  summary: "Delete a secret",
  request: { params: z.object({ app: AppParam, name: NameParam }) },
  responses: {
    204: { description: "deleted" },
    404: errorResponse("no such secret (`secret_not_found`)"),
    ...errors,
  },
});

/** Routes for an app's build role: list names, set, delete. No route returns a value. */
export function secretsRoutes<User>({ secrets, authorize, logger }: SecretsRoutesOptions<User>) {
  const app = edgeApp<{ Variables: { user?: User } }>({ ...(logger ? { logger } : {}), scope: "secrets" });

  const guard = async (c: Context<{ Variables: { user?: User } }>, appName: string) => {
    const user = c.get("user");
    if (user === undefined) throw httpError("unauthenticated", "authentication required");
    if (!(await authorize(user, appName, "build"))) {
      throw httpError("forbidden", `the build role on app ${JSON.stringify(appName)} is required`);
    }
  };

  app.openapi(listRoute, async (c) => {
    const { app: appName } = c.req.valid("param");
    await guard(c, appName);
    return c.json({ secrets: await secrets.list(appName) }, 200);
  });

  app.openapi(setRoute, async (c) => {
    const { app: appName, name } = c.req.valid("param");
    await guard(c, appName);
    const { value, encoding } = c.req.valid("json");
    if (encoding === "base64" && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
      throw httpError("bad_request", "value: not valid base64");
    }
    const bytes = encoding === "base64" ? Buffer.from(value, "base64") : value;
    return c.json(await secrets.set(appName, name, bytes), 200);
  });

  app.openapi(deleteRoute, async (c) => {
    const { app: appName, name } = c.req.valid("param");
    await guard(c, appName);
    if (!(await secrets.delete(appName, name))) {
      throw new SecretNotFoundError(appName, name);
    }
    return c.body(null, 204);
  });

  return app;
}
