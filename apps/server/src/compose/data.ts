import { join } from "node:path";
import { Apps } from "@amp/apps";
import { appsRoutes } from "@amp/apps/http";
import type { AmpUser } from "@amp/auth";
import { secretsRoutes } from "@amp/secrets/http";
import { trackFfiCatalog } from "@amp/track";
import type { Logger } from "pino";
import type { ServerConfig } from "../config/schema.js";
import type { Component, RouteMount } from "../lifecycle/component.js";
import type { DatabaseComponent } from "./database.js";
import type { SecurityComponent } from "./security.js";
import { started } from "./started.js";

/** The data plane: the app registry with its document stores, and the per-app secrets API. */
export class DataComponent implements Component {
  readonly name = "apps";
  #apps: Apps | undefined;
  /** With --database-url: the node's one pool, shared with the records of the security component. */
  #routes: RouteMount[] = [];

  constructor(
    private readonly config: ServerConfig,
    private readonly logger: Logger,
    private readonly security: SecurityComponent,
    private readonly database: DatabaseComponent,
  ) {}

  get apps(): Apps {
    return started(this.#apps, this.name);
  }

  get routes(): readonly RouteMount[] {
    return this.#routes;
  }

  async start(): Promise<void> {
    // PostgreSQL when --database-url is set (a bad URL, an unreachable server or a newer schema
    // fail the start with DatabaseStartupError); else LMDB under --database-dir, as ever.
    const apps = await Apps.open({
      dir: join(this.config.databaseDir, "apps"),
      databaseUrl: this.config.databaseUrl,
      database: this.database.database,
      logger: this.logger.child({ component: "apps" }),
    });
    this.#apps = apps;
    this.#routes = [
      {
        path: "/",
        app: secretsRoutes<AmpUser>({
          secrets: this.security.secrets,
          authorize: (user, app) => user !== undefined && apps.can(user, app, "allowed_build"),
        }),
      },
      // An import reports the FFIs an app names that the sessions' FFI table does not answer.
      { path: "/", app: appsRoutes({ apps, ffis: trackFfiCatalog() }) },
    ];
  }

  async stop(): Promise<void> {
    await this.#apps?.close();
  }
}
