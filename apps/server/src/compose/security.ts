import {
  AUTH_VAULT_APP,
  authMiddleware,
  LOGIN_CODE_TTL_MS,
  LOGIN_SECRETS_APP,
  LoginCodeStore,
  openLoginRecords,
  PasskeyCredentialStore,
  PasskeyService,
  PluginConfigStore,
  TokenService,
} from "@amp/auth";
import { authRoutes, loginRoutes } from "@amp/auth/http";
import type { RedisAuthState } from "@amp/auth/redis";
import type { PostgresDatabase } from "@amp/records/postgres";
import { type Envelope, Secrets } from "@amp/secrets";
import type { MiddlewareHandler } from "hono";
import type { Logger } from "pino";
import type { ServerConfig } from "../config/schema.js";
import type { Component, ComponentContext, RouteMount } from "../lifecycle/component.js";
import type { DatabaseComponent } from "./database.js";
import { keyProvider } from "./key-provider.js";
import { openSharedRecords } from "./shared-records.js";
import { started } from "./started.js";

/** What the identity side has open once started. */
export interface Security {
  readonly secrets: Secrets;
  readonly tokens: TokenService;
}

/**
 * The identity side of the server: secrets, tokens, login plugins and passkeys, opened at
 * start with the server's real public URL (the tokens' issuer, the passkeys' origin), and the
 * middleware that puts the caller on every request (a bad token is a 401, never anonymous).
 */
export class SecurityComponent implements Component {
  readonly name = "auth";
  #open:
    | (Security & { routes: RouteMount[]; middleware: MiddlewareHandler[]; stop(): Promise<void> })
    | undefined;

  constructor(
    private readonly config: ServerConfig,
    private readonly logger: Logger,
    private readonly database: DatabaseComponent,
  ) {}

  get secrets(): Secrets {
    return started(this.#open, this.name).secrets;
  }

  get tokens(): TokenService {
    return started(this.#open, this.name).tokens;
  }

  get routes(): readonly RouteMount[] {
    return this.#open?.routes ?? [];
  }

  get middleware(): readonly MiddlewareHandler[] {
    return this.#open?.middleware ?? [];
  }

  async start(context: ComponentContext): Promise<void> {
    this.#open = await openSecurity(this.config, this.logger, context.baseURL, this.database.database);
  }

  async stop(): Promise<void> {
    await this.#open?.stop();
  }
}

async function openSecurity(
  config: ServerConfig,
  logger: Logger,
  publicUrl: string,
  database: PostgresDatabase | undefined,
) {
  // With --redis-url the short-lived login state is shared, so a login may start and end on two
  // nodes. Connected first: an unreachable Redis fails the start before anything is opened.
  const shared = config.redisUrl ? await connectRedis(config.redisUrl, logger) : undefined;
  // Revocations too: a token revoked on one node is refused by every node.
  const revocationFeed = config.redisUrl ? await connectRevocations(config.redisUrl) : undefined;
  // With --database-url the secrets (signing keys among them) are shared by every node; the
  // key-encryption keys must then be the same on every node, which checkKeys verifies.
  const records = database ? await openSharedRecords(database, logger) : undefined;
  const secrets = new Secrets({
    databaseDir: config.databaseDir,
    logger: logger.child({ component: "secrets" }),
    ...(config.masterKey ? { masterKey: config.masterKey } : {}),
    ...keyProvider(config, logger),
    ...(records ? { store: records.open<Envelope>("secrets") } : {}),
  });
  await secrets.checkKeys();
  // Plugin configurations and passkeys: shared with the secrets' records, or in the folder.
  const loginRecords = records ?? openLoginRecords(config.databaseDir);
  const configs = new PluginConfigStore({
    records: loginRecords,
    secrets: secrets.scoped(LOGIN_SECRETS_APP),
  });
  await configs.ready;
  const tokens = await TokenService.open({
    databaseDir: config.databaseDir,
    vault: secrets.scoped(AUTH_VAULT_APP),
    issuer: publicUrl,
    sessionTimeoutSeconds: Math.ceil(config.sessionTimeoutMs / 1000),
    pluginActive: (id) => configs.isActive(id),
    logger: logger.child({ component: "auth" }),
    ...(config.rootUser ? { rootUser: config.rootUser } : {}),
    ...(revocationFeed ? { revocationFeed } : {}),
    ...(records ? { records } : {}),
    ...(config.centralIssuer
      ? {
          centralIssuer: {
            issuer: config.centralIssuer,
            jwksUrl: config.centralJwks ?? `${config.centralIssuer.replace(/\/+$/, "")}/x/jwks.json`,
            ...(config.centralAudience ? { audience: config.centralAudience } : {}),
          },
        }
      : {}),
  });
  const codes = new LoginCodeStore(
    shared ? { store: shared.singleUseStore("login-code", LOGIN_CODE_TTL_MS) } : {},
  );
  const origin = new URL(publicUrl);
  const passkeys = new PasskeyService({
    store: new PasskeyCredentialStore({ records: loginRecords }),
    rpId: origin.hostname,
    rpName: `amp ${config.org}`,
    origins: [origin.origin],
    ...(config.rootUser ? { isReservedUser: (user: string) => user === config.rootUser } : {}),
    ...(shared
      ? { challengeStores: <T>(name: string, ttlMs: number) => shared.singleUseStore<T>(name, ttlMs) }
      : {}),
  });
  return {
    secrets,
    tokens,
    middleware: [authMiddleware({ tokens })],
    routes: [
      {
        path: "/",
        app: authRoutes({
          tokens,
          loginCodes: codes,
          ...(shared ? { rateLimit: { counter: shared.rateLimitCounter("token") } } : {}),
        }),
      },
      {
        path: "/",
        app: loginRoutes({
          configs,
          codes,
          passkeys,
          outbound: { allowedHosts: config.httpAllow.filter((h) => h !== "*") },
          publicUrl,
          logger: logger.child({ component: "login" }),
          ...(shared
            ? {
                pendingLogins: shared.singleUseStore(PENDING_LOGIN, LOGIN_TTL_MS),
                loginTtlMs: LOGIN_TTL_MS,
                rateLimit: { counter: shared.rateLimitCounter("login") },
              }
            : {}),
        }),
      },
    ],
    async stop() {
      await shared?.close();
      await tokens.close();
      await revocationFeed?.close();
      configs.close();
      if (loginRecords !== records) await loginRecords.close();
      await secrets.close();
      await records?.close();
    },
  };
}

/** How long a started login may take at the provider (loginRoutes' default). */
const LOGIN_TTL_MS = 600_000;
const PENDING_LOGIN = "pending-login";

async function connectRedis(url: string, logger: Logger): Promise<RedisAuthState> {
  // Loaded only with --redis-url: ioredis is not part of the embedded default's start-up.
  const { RedisAuthState } = await import("@amp/auth/redis");
  const state = await RedisAuthState.connect(url);
  logger.info("auth: pending logins, passkey challenges, login codes and rate limits in Redis");
  return state;
}

async function connectRevocations(url: string) {
  const { RedisRevocationFeed } = await import("@amp/auth/redis-revocations");
  return RedisRevocationFeed.connect(url);
}
