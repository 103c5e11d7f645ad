import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import * as client from "openid-client";
import type { Logger } from "pino";
import type { PluginConfig } from "../config/schema.js";
import { PluginIdSchema } from "../config/schema.js";
import type { PluginConfigStore } from "../config/store.js";
import { LoginError } from "../errors.js";
import type { LoginCodeStore } from "../login-codes.js";
import { callbackMode, type PendingLogin } from "../providers/login-provider.js";
import type { ProviderClient } from "../providers/provider-client.js";
import type { SingleUseStore } from "../single-use-store.js";
import { identityFromClaims } from "../user-name.js";
import type { LoginBrowserBinding } from "./browser-binding.js";
import { errorResponses, loginApp, loginBodyLimit } from "./context.js";

export interface PluginLoginDeps {
  configs: PluginConfigStore;
  providers: ProviderClient;
  codes: LoginCodeStore;
  pendingLogins: SingleUseStore<PendingLogin>;
  browserBinding: LoginBrowserBinding;
  /** The server's external base URL; callbacks are `<publicUrl>/x/auth/<id>/callback`. */
  publicUrl: string;
  logger: Logger;
}

const HandlerParams = z.object({ handler: PluginIdSchema });

const StartQuery = z.object({
  return_to: z.url().max(2048).optional().openapi({ description: "one of the plugin's `returnUrls`" }),
});

/** The authorization response, as query (GET) or form (Apple's form_post). */
const CallbackParams = z.object({
  state: z.string().max(512).optional(),
  code: z.string().max(4096).optional(),
  error: z.string().max(256).optional(),
  error_description: z.string().max(1024).optional(),
  iss: z.string().max(2048).optional(),
  /** Apple posts the user's name on first login; unused, accepted so the post validates. */
  user: z.string().max(4096).optional(),
});

const redirectResponse = {
  description: "redirect",
  headers: { Location: { schema: { type: "string" as const } } },
};

const startRoute = createRoute({
  method: "get",
  path: "/x/auth/{handler}",
  summary: "Start a login: redirect to the plugin's provider (state, nonce, PKCE)",
  request: { params: HandlerParams, query: StartQuery },
  responses: { 302: redirectResponse, ...errorResponses(400, 404, 429, 502) },
});

const callbackGetRoute = createRoute({
  method: "get",
  path: "/x/auth/{handler}/callback",
  summary: "The provider's redirect back: exchange the code, redirect to the return URL with `?code=`",
  request: { params: HandlerParams, query: CallbackParams },
  responses: { 302: redirectResponse, ...errorResponses(400, 404, 429, 502) },
});

const callbackPostRoute = createRoute({
  method: "post",
  path: "/x/auth/{handler}/callback",
  summary: "The same callback for `response_mode=form_post` (Sign in with Apple)",
  middleware: loginBodyLimit,
  request: {
    params: HandlerParams,
    body: { content: { "application/x-www-form-urlencoded": { schema: CallbackParams } }, required: true },
  },
  responses: { 303: redirectResponse, ...errorResponses(400, 404, 413, 415, 429, 502) },
});

/** `/x/auth/{handler}` and its callback for the OIDC, OAuth2, Apple and Snowflake plugins. */
export function pluginLoginRoutes(deps: PluginLoginDeps) {
  const app = loginApp(deps.logger);

  app.openapi(startRoute, async (c) => {
    const { handler } = c.req.valid("param");
    const config = activeConfig(deps.configs, handler);
    const state = client.randomState();
    const pending: PendingLogin = {
      plugin: config.id,
      state,
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
      returnUrl: allowedReturnUrl(config, c.req.valid("query").return_to),
      configVersion: config.updatedAt,
      browserBinding: deps.browserBinding.bind(c, state, callbackMode(config)),
    };
    const url = await deps.providers.authorizationUrl(config, pending, callbackUrl(deps, config.id));
    await deps.pendingLogins.put(pending.state, pending);
    return c.redirect(url.href, 302);
  });

  const finish = async (
    c: Context,
    handler: string,
    params: z.infer<typeof CallbackParams>,
  ): Promise<string> => {
    const pending = params.state ? await deps.pendingLogins.take(params.state) : undefined;
    if (!pending || pending.plugin !== handler) {
      throw new LoginError("state_mismatch", "unknown, used or expired login state");
    }
    const config = activeConfig(deps.configs, handler);
    try {
      // Before anything reaches the provider: an attacker's code must not be redeemed in a victim's browser.
      deps.browserBinding.verify(c, pending.state, callbackMode(config), pending.browserBinding);
    } catch (error) {
      deps.logger.warn({ plugin: handler }, "login callback from another browser refused (login CSRF?)");
      throw error;
    }
    if (config.updatedAt !== pending.configVersion) {
      throw new LoginError("config_changed", "the plugin configuration changed during the login");
    }
    const callbackParams = Object.fromEntries(
      Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined && e[0] !== "user"),
    );
    try {
      const claims = await deps.providers.exchange(
        config,
        pending,
        callbackUrl(deps, handler),
        callbackParams,
      );
      const identity = identityFromClaims(config, claims);
      const target = new URL(pending.returnUrl);
      target.searchParams.set("code", await deps.codes.issue(identity));
      deps.logger.info({ plugin: handler, user: identity.user }, "login succeeded");
      return target.href;
    } catch (error) {
      if (error instanceof LoginError)
        deps.logger.warn({ plugin: handler, code: error.code }, "login failed");
      throw error;
    }
  };

  app.openapi(callbackGetRoute, async (c) => {
    const { handler } = c.req.valid("param");
    return c.redirect(await finish(c, handler, c.req.valid("query")), 302);
  });

  app.openapi(callbackPostRoute, async (c) => {
    const { handler } = c.req.valid("param");
    return c.redirect(await finish(c, handler, c.req.valid("form")), 303);
  });

  return app;
}

function activeConfig(configs: PluginConfigStore, id: string): PluginConfig {
  const config = configs.get(id);
  if (!config) throw new LoginError("plugin_not_found", `no login plugin "${id}"`, 404);
  return config;
}

function callbackUrl(deps: PluginLoginDeps, id: string): string {
  return new URL(`/x/auth/${id}/callback`, deps.publicUrl).href;
}

/** The requested return URL if the plugin lists it exactly, else its first one. */
function allowedReturnUrl(config: PluginConfig, requested: string | undefined): string {
  if (requested === undefined) return config.returnUrls[0]!;
  const wanted = new URL(requested).href;
  const match = config.returnUrls.find((url) => new URL(url).href === wanted);
  if (!match) throw new LoginError("return_url_not_allowed", "this return URL is not allowed for the plugin");
  return match;
}
