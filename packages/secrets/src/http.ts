import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { SecretNotFoundError, SecretsError } from "./errors.js";
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
}

const ErrorBody = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .openapi("SecretsError");
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
  400: { description: "invalid request", content: { "application/json": { schema: ErrorBody } } },
  401: { description: "no user", content: { "application/json": { schema: ErrorBody } } },
  403: { description: "no build role on the app", content: { "application/json": { schema: ErrorBody } } },
} as const;

const listRoute = createRoute({
  method: "get",
  path: "/x/secrets/{app}",
  summary: "List the names of an app's secrets (never their values)",
  request: { params: z.object({ app: AppParam }) },
  responses: {
    200: {
      description: "the secrets' names and key versions",
      content: { "application/json": { schema: z.object({ secrets: z.array(SecretInfoBody) }) } },
    },
    ...errors,
  },
});

const setRoute = createRoute({
  method: "put",
  path: "/x/secrets/{app}/{name}",
  summary: "Set a secret; the value is write-only over HTTP",
  request: {
    params: z.object({ app: AppParam, name: NameParam }),
    body: { required: true, content: { "application/json": { schema: SetSecretBody } } },
  },
  responses: {
    200: { description: "stored", content: { "application/json": { schema: SecretInfoBody } } },
    413: { description: "value too large", content: { "application/json": { schema: ErrorBody } } },
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
    404: { description: "no such secret", content: { "application/json": { schema: ErrorBody } } },
    ...errors,
  },
});

/** Routes for an app's build role: list names, set, delete. No route returns a value. */
export function secretsRoutes<User>({ secrets, authorize }: SecretsRoutesOptions<User>) {
  const app = new OpenAPIHono<{ Variables: { user?: User } }>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const issue = result.error.issues[0];
        const where = issue?.path.join(".") || "request";
        return c.json({ error: { code: "invalid_request", message: `${where}: ${issue?.message}` } }, 400);
      }
    },
  });

  app.onError((err, c) => {
    if (err instanceof SecretsError) {
      return c.json({ error: { code: err.code, message: err.message } }, err.status);
    }
    if (err instanceof HTTPException && err.status < 500) {
      // Hono's own request errors, e.g. a body that is not JSON.
      return c.json({ error: { code: "invalid_request", message: err.message } }, err.status);
    }
    return c.json({ error: { code: "internal", message: "internal error" } }, 500);
  });

  app.use(
    "/x/secrets/*",
    bodyLimit({
      maxSize: 128 * 1024,
      onError: (c) => c.json({ error: { code: "secret_too_large", message: "request body too large" } }, 413),
    }),
  );

  const guard = async (c: Context<{ Variables: { user?: User } }>, appName: string) => {
    const user = c.get("user");
    if (user === undefined) throw new SecretsError("unauthorized", "authentication required", 401);
    if (!(await authorize(user, appName, "build"))) {
      throw new SecretsError(
        "forbidden",
        `the build role on app ${JSON.stringify(appName)} is required`,
        403,
      );
    }
  };

  app.openapi(listRoute, async (c) => {
    const { app: appName } = c.req.valid("param");
    await guard(c, appName);
    return c.json({ secrets: secrets.list(appName) }, 200);
  });

  app.openapi(setRoute, async (c) => {
    const { app: appName, name } = c.req.valid("param");
    await guard(c, appName);
    const { value, encoding } = c.req.valid("json");
    if (encoding === "base64" && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
      throw new SecretsError("invalid_request", "value is not valid base64", 400);
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
