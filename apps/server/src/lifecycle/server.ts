import { mkdir } from "node:fs/promises";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Logger } from "pino";
import { createAdminApp } from "../admin/admin-app.js";
import { type AdminAuthorizer, bearerCredentialAuthorizer } from "../admin/authorize.js";
import { InspectorSessions } from "../admin/debug.js";
import { ServerMetrics } from "../admin/metrics.js";
import { readBuildInfo } from "../build-info.js";
import type { ServerConfig } from "../config/schema.js";
import type { Phase } from "../http/health.js";
import { createPublicApp } from "../http/public-app.js";
import type { ServerInfo } from "../http/server-info.js";
import { createLogger } from "../logging/logger.js";
import type { Component, ServerAddresses } from "./component.js";
import { HttpListener } from "./listener.js";

export interface CreateServerOptions {
  /** Default: a pino logger at config.logLevel (pretty on a terminal). */
  logger?: Logger;
  /** Started in this order, stopped in reverse. */
  components?: readonly Component[];
  /**
   * Who may use /x/debug/* on the admin port. Default: a bearer check against
   * config.adminToken, denying everything when it is unset.
   */
  authorizeAdmin?: AdminAuthorizer;
  /** Reported by /x/serverinfo (default "unknown"). */
  stdlibID?: string;
}

export interface StopResult {
  /** Every in-flight request finished within the grace period. */
  drained: boolean;
  /** Names of components whose stop() threw. */
  failed: string[];
}

export interface AmpServer {
  /** The public app: health and serverinfo until ready, then with every component's routes. */
  readonly app: OpenAPIHono;
  /** The admin-port app. */
  readonly adminApp: OpenAPIHono;
  readonly logger: Logger;
  readonly phase: Phase;
  /** The bound ports, once listening (before the components have started). */
  readonly addresses: ServerAddresses | undefined;
  /** Binds both ports, then starts the components; resolves with the bound addresses once ready. */
  start(): Promise<ServerAddresses>;
  /** Stops accepting, drains within the grace period, stops components in reverse. Idempotent. */
  stop(): Promise<StopResult>;
  /** Cuts every connection at once, then stops the components (also ends a stop() in progress). */
  terminate(): Promise<StopResult>;
}

/** Composes the server from its config and components; nothing listens until start(). */
export function createServer(config: ServerConfig, options: CreateServerOptions = {}): AmpServer {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const components = options.components ?? [];
  const build = readBuildInfo();
  const metrics = new ServerMetrics();
  const inspector = new InspectorSessions();
  let phase: Phase = "idle";
  let addresses: ServerAddresses | undefined;
  let starting: Promise<ServerAddresses> | undefined;
  let shutdown: Promise<StopResult> | undefined;
  const started: Component[] = [];

  const baseURL = () => config.baseURL ?? `http://localhost:${addresses?.http.port ?? config.port}`;
  const info = (): ServerInfo => ({
    org: config.org,
    workspace: config.workspace,
    baseURL: baseURL(),
    build: build.build,
    SHA1: build.SHA1,
    stdlibID: options.stdlibID ?? "unknown",
  });

  const newPublicApp = () => createPublicApp({ config, logger, metrics, phase: () => phase, info });
  const newAdminApp = () =>
    createAdminApp({
      logger,
      metrics,
      authorize: options.authorizeAdmin ?? bearerCredentialAuthorizer(config.adminToken),
      authorizeConfigured: options.authorizeAdmin !== undefined || config.adminToken !== undefined,
      inspector,
    });
  // The ports answer from the first moment (health, 503 elsewhere); once the components have
  // started, apps with their routes take over. Hono's router cannot take routes after its first
  // request, so the full apps are new ones rather than the bootstrap ones grown.
  let app = newPublicApp();
  let adminApp = newAdminApp();
  const publicListener = new HttpListener((request, env) => app.fetch(request, env));
  const adminListener = new HttpListener((request, env) => adminApp.fetch(request, env));

  /** The public and admin apps with every started component's middleware and routes. */
  function mountComponents(): void {
    const full = newPublicApp();
    const fullAdmin = newAdminApp();
    for (const component of started)
      for (const middleware of component.middleware ?? []) full.use(middleware);
    for (const component of started) {
      for (const mount of component.routes ?? []) full.route(mount.path, mount.app);
      for (const mount of component.adminRoutes ?? []) fullAdmin.route(mount.path, mount.app);
    }
    app = full;
    adminApp = fullAdmin;
  }

  async function listen(): Promise<ServerAddresses> {
    const bind = (listener: HttpListener, port: number, host: string | undefined, setting: string) =>
      listener.listen(port, host).catch((error: NodeJS.ErrnoException) => {
        const where = `${host ?? "*"}:${port}`;
        const why =
          error.code === "EADDRINUSE"
            ? "is already in use"
            : `cannot be bound (${error.code ?? error.message})`;
        throw new Error(`${setting} ${where} ${why}`, { cause: error });
      });
    const http = await bind(publicListener, config.port, config.host, "--port");
    const admin = await bind(adminListener, config.adminPort, config.adminHost, "--admin-port");
    return { http, admin };
  }

  async function startAll(): Promise<ServerAddresses> {
    phase = "starting";
    try {
      await mkdir(config.databaseDir, { recursive: true }).catch((error: Error) => {
        throw new Error(`--database-dir ${config.databaseDir} cannot be created: ${error.message}`, {
          cause: error,
        });
      });
      addresses = await listen();
      logger.info({ http: addresses.http, admin: addresses.admin, baseURL: baseURL() }, "listening");
      for (const component of components) {
        const context = {
          config,
          logger: logger.child({ component: component.name }),
          baseURL: baseURL(),
          addresses,
          metrics: metrics.registry,
        };
        try {
          await component.start?.(context);
        } catch (error) {
          throw new Error(`component ${component.name} failed to start: ${(error as Error).message}`, {
            cause: error,
          });
        }
        started.push(component);
        logger.debug({ component: component.name }, "component started");
      }
    } catch (error) {
      logger.error({ err: error }, "start failed; stopping what started");
      await stopAll(0, true);
      throw error;
    }
    mountComponents();
    phase = "ready";
    logger.info({ components: components.map((c) => c.name) }, "ready");
    return addresses;
  }

  async function stopAll(graceMs: number, cut: boolean): Promise<StopResult> {
    phase = "stopping";
    logger.info({ graceMs }, "stopping");
    let drained = true;
    if (!cut) {
      const results = await Promise.all([publicListener.drain(graceMs), adminListener.drain(graceMs)]);
      drained = results.every(Boolean);
      if (!drained) logger.warn({ graceMs }, "grace period over: cutting the remaining requests");
    }
    inspector.closeAll();
    await Promise.all([publicListener.destroy(), adminListener.destroy()]);
    const failed: string[] = [];
    for (const component of started.splice(0).reverse()) {
      try {
        await component.stop?.();
        logger.debug({ component: component.name }, "component stopped");
      } catch (error) {
        failed.push(component.name);
        logger.error({ err: error, component: component.name }, "component failed to stop");
      }
    }
    phase = "stopped";
    logger.info({ drained, failed }, "stopped");
    return { drained, failed };
  }

  async function shutdownOnce(cut: boolean): Promise<StopResult> {
    if (cut) {
      // Ends a drain in progress; the components still stop in order. All of this runs
      // synchronously, before a caller's process.exit().
      inspector.closeAll();
      void publicListener.destroy();
      void adminListener.destroy();
    }
    if (!shutdown) {
      shutdown = (async () => {
        await starting?.catch(() => {});
        if (phase === "stopped") return { drained: true, failed: [] };
        return stopAll(config.shutdownGraceMs, cut);
      })();
    }
    return shutdown;
  }

  return {
    get app() {
      return app;
    },
    get adminApp() {
      return adminApp;
    },
    logger,
    get phase() {
      return phase;
    },
    get addresses() {
      return addresses;
    },
    start() {
      if (starting || shutdown) throw new Error("an amp server starts once");
      starting = startAll();
      return starting;
    },
    stop: () => shutdownOnce(false),
    terminate: () => shutdownOnce(true),
  };
}
