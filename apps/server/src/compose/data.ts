import { join } from "node:path";
import { Apps } from "@amp/apps";
import { appsRoutes } from "@amp/apps/http";
import type { AmpUser } from "@amp/auth";
import { secretsRoutes } from "@amp/secrets/http";
import { trackFfiCatalog } from "@amp/track";
import type { Logger } from "pino";
import type { ServerConfig } from "../config/schema.js";
import type { Component } from "../lifecycle/component.js";
import type { Security } from "./security.js";

/** The data plane: the app registry with its document stores, and the per-app secrets API. */
export interface Data {
  readonly apps: Apps;
  readonly component: Component;
}

export function openData(config: ServerConfig, logger: Logger, security: Security): Data {
  const apps = new Apps({
    dir: join(config.databaseDir, "apps"),
    logger: logger.child({ component: "apps" }),
  });
  const component: Component = {
    name: "apps",
    routes: [
      {
        path: "/",
        app: secretsRoutes<AmpUser>({
          secrets: security.secrets,
          authorize: (user, app) => user !== undefined && apps.can(user, app, "allowed_build"),
        }),
      },
      // An import reports the FFIs an app names that the sessions' FFI table does not answer.
      { path: "/", app: appsRoutes({ apps, ffis: trackFfiCatalog() }) },
    ],
    async stop() {
      await apps.close();
    },
  };
  return { apps, component };
}
