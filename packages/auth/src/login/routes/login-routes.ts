import type { Logger } from "pino";
import { type RateLimitOptions, rateLimit } from "../../rate-limit.js";
import type { PluginConfigStore } from "../config/store.js";
import type { LoginCodeStore } from "../login-codes.js";
import type { OutboundPolicy } from "../outbound.js";
import type { PasskeyService } from "../passkey/passkey-service.js";
import type { PendingLogin } from "../providers/login-provider.js";
import { ProviderClient } from "../providers/provider-client.js";
import { MemorySingleUseStore, type SingleUseStore } from "../single-use-store.js";
import { authConfigRoutes } from "./auth-config-routes.js";
import { LoginBrowserBinding } from "./browser-binding.js";
import { loginApp } from "./context.js";
import { passkeyRoutes } from "./passkey-routes.js";
import { pluginLoginRoutes } from "./plugin-login-routes.js";

export interface LoginRoutesOptions {
  configs: PluginConfigStore;
  /** Where successful logins leave their amp authorization codes; give the same store to `/x/token`. */
  codes: LoginCodeStore;
  /** Passkey routes are served only when given. */
  passkeys?: PasskeyService;
  /** Which provider hosts the server may call. */
  outbound: OutboundPolicy;
  /** The server's external base URL (callbacks are built from it). */
  publicUrl: string;
  logger: Logger;
  /** Limits on the login endpoints (`/x/auth/*`, `/x/pubkey/*`); 429 past them. */
  rateLimit?: RateLimitOptions;
  /** How long a started login may take at the provider. Default 10 min. */
  loginTtlMs?: number;
  /**
   * Replaces the in-memory store of started logins (state, nonce, PKCE verifier), e.g. with a
   * Redis one shared by several nodes. Its own time-to-live applies, not `loginTtlMs`.
   */
  pendingLogins?: SingleUseStore<PendingLogin>;
  now?: () => number;
}

/**
 * The login plugins' HTTP face: `/x/auth/{handler}` (+ `/callback`), `/x/pubkey/*`
 * and `/x/authConfig`. Mount with `app.route("/", loginRoutes(...))` behind the auth
 * middleware, which sets `c.get("user")`.
 */
export function loginRoutes(options: LoginRoutesOptions) {
  const app = loginApp(options.logger);
  const limiter = rateLimit({ now: options.now, ...options.rateLimit });
  app.use("/x/auth/*", limiter);
  app.use("/x/pubkey/*", limiter);

  const loginTtlMs = options.loginTtlMs ?? 600_000;
  const pendingLogins =
    options.pendingLogins ?? new MemorySingleUseStore<PendingLogin>({ ttlMs: loginTtlMs, now: options.now });
  const browserBinding = new LoginBrowserBinding({ publicUrl: options.publicUrl, ttlMs: loginTtlMs });
  const providers = new ProviderClient({
    configs: options.configs,
    outbound: options.outbound,
    now: options.now,
  });
  app.route("/", pluginLoginRoutes({ ...options, providers, pendingLogins, browserBinding }));
  app.route("/", authConfigRoutes({ ...options, browserBinding }));
  if (options.passkeys) app.route("/", passkeyRoutes({ ...options, passkeys: options.passkeys }));

  return app;
}
