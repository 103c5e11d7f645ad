import { createRoute, z } from "@hono/zod-openapi";
import type { Logger } from "pino";
import type { AmpUser } from "../../user.js";
import {
  type PluginConfig,
  PluginConfigInputSchema,
  PluginConfigSchema,
  PluginIdSchema,
} from "../config/schema.js";
import type { PluginConfigStore } from "../config/store.js";
import { LoginError } from "../errors.js";
import type { OutboundPolicy } from "../outbound.js";
import { assertAllowedUrl } from "../outbound.js";
import { callbackMode } from "../providers/login-provider.js";
import type { LoginBrowserBinding } from "./browser-binding.js";
import { actingUser, errorResponses, loginApp, loginBodyLimit } from "./context.js";

export interface AuthConfigRouteDeps {
  configs: PluginConfigStore;
  outbound: OutboundPolicy;
  /** Refuses plugins whose callback could not carry the login cookie (Apple on plain http). */
  browserBinding: LoginBrowserBinding;
  logger: Logger;
}

const IdParams = z.object({ id: PluginIdSchema });
const one = (description: string) => ({
  description,
  content: { "application/json": { schema: PluginConfigSchema } },
});

const listRoute = createRoute({
  method: "get",
  path: "/x/authConfig",
  summary: "Plugin configurations: all for root, one's own public plugins for others",
  responses: {
    200: {
      description: "configurations, never with secrets",
      content: { "application/json": { schema: z.object({ configs: z.array(PluginConfigSchema) }) } },
    },
    ...errorResponses(401),
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/x/authConfig/{id}",
  summary: "One plugin configuration (never its secret)",
  request: { params: IdParams },
  responses: { 200: one("the configuration"), ...errorResponses(401, 404) },
});

const putRoute = createRoute({
  method: "put",
  path: "/x/authConfig/{id}",
  summary: "Create or replace a plugin configuration; an omitted secret keeps the stored one",
  middleware: loginBodyLimit,
  request: {
    params: IdParams,
    body: { content: { "application/json": { schema: PluginConfigInputSchema } }, required: true },
  },
  responses: {
    200: one("replaced"),
    201: one("created"),
    ...errorResponses(400, 401, 403, 404, 409, 413, 415),
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/x/authConfig/{id}",
  summary: "Delete a plugin configuration; tokens from its logins stop verifying",
  request: { params: IdParams },
  responses: { 204: { description: "deleted" }, ...errorResponses(401, 404) },
});

/**
 * `/x/authConfig` CRUD. Root manages every plugin; other logged-in users create and
 * manage only their own *public* plugins. Anyone else sees 404 for a plugin, so
 * ids do not leak.
 */
export function authConfigRoutes(deps: AuthConfigRouteDeps) {
  const app = loginApp(deps.logger);

  app.openapi(listRoute, (c) => {
    const user = loggedIn(actingUser(c));
    return c.json({ configs: deps.configs.list().filter((config) => mayManage(user, config)) }, 200);
  });

  app.openapi(getRoute, (c) => {
    const config = managed(deps.configs, loggedIn(actingUser(c)), c.req.valid("param").id);
    return c.json(config, 200);
  });

  app.openapi(putRoute, async (c) => {
    const user = loggedIn(actingUser(c));
    const { id } = c.req.valid("param");
    const input = c.req.valid("json");
    if (input.visibility === "confidential" && !user.root) {
      throw new LoginError("forbidden", "only admins manage confidential plugins", 403);
    }
    for (const url of providerUrls(input)) assertAllowedUrl(deps.outbound, url);
    deps.browserBinding.assertPossible(callbackMode(input));
    if (!deps.configs.get(id)) {
      const created = await deps.configs.create(id, input, user.id);
      deps.logger.info({ plugin: id, kind: input.kind, by: user.id }, "login plugin created");
      return c.json(created, 201);
    }
    managed(deps.configs, user, id);
    const replaced = await deps.configs.replace(id, input);
    deps.logger.info({ plugin: id, kind: input.kind, by: user.id }, "login plugin replaced");
    return c.json(replaced, 200);
  });

  app.openapi(deleteRoute, async (c) => {
    const user = loggedIn(actingUser(c));
    const { id } = c.req.valid("param");
    managed(deps.configs, user, id);
    await deps.configs.delete(id);
    deps.logger.info({ plugin: id, by: user.id }, "login plugin deleted");
    return c.body(null, 204);
  });

  return app;
}

function loggedIn(user: AmpUser): AmpUser {
  if (user.anonymous) throw new LoginError("unauthenticated", "log in to manage login plugins", 401);
  return user;
}

function mayManage(user: AmpUser, config: PluginConfig): boolean {
  return user.root || (config.visibility === "public" && config.owner === user.id);
}

function managed(configs: PluginConfigStore, user: AmpUser, id: string): PluginConfig {
  const config = configs.get(id);
  if (!config || !mayManage(user, config)) {
    throw new LoginError("config_not_found", `no plugin configuration "${id}"`, 404);
  }
  return config;
}

/** The provider URLs a configuration makes the server call. */
function providerUrls(input: z.infer<typeof PluginConfigInputSchema>): string[] {
  switch (input.kind) {
    case "oidc":
      return [input.issuer];
    case "oauth2":
      return [input.authorizationEndpoint, input.tokenEndpoint, input.userinfoEndpoint];
    case "apple":
      return input.issuer ? [input.issuer] : [];
    case "snowflake":
      return [input.accountUrl];
  }
}
