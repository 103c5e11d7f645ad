import type { Logger } from "pino";
import { type AdminAuthorizer, bearerCredentialAuthorizer } from "../admin/authorize.js";
import type { ServerConfig } from "../config/schema.js";
import type { Composition } from "./composition.js";
import { ConsoleRoutesComponent } from "./console-routes.js";
import { DataComponent } from "./data.js";
import { DatabaseComponent } from "./database.js";
import { LiveComponent } from "./live.js";
import { MessagingComponent } from "./messaging.js";
import { SecurityComponent } from "./security.js";
import { SessionsComponent } from "./sessions.js";

/**
 * The server's parts from its config. Nothing opens here: each component opens its stores in
 * `start(ctx)`, once the ports are bound and the public URL is known, in this order, and they
 * stop in reverse (sessions end before the stores they use close).
 */
export function composeAmp(config: ServerConfig, logger: Logger): Composition {
  const database = new DatabaseComponent(config, logger);
  const security = new SecurityComponent(config, logger, database);
  const data = new DataComponent(config, logger, security, database);
  const messaging = new MessagingComponent(config, logger, security, data);
  const sessions = new SessionsComponent(config, logger, { security, data, messaging });
  return {
    components: [
      database,
      security,
      data,
      messaging,
      sessions,
      new ConsoleRoutesComponent(logger, messaging, sessions),
      new LiveComponent(logger, messaging, sessions),
    ],
    authorizeAdmin: rootOrAdminCredential(security, config.adminToken),
  };
}

/** The admin debug routes take a root user's token, or the operator's `RMX_ADMIN_TOKEN`. */
function rootOrAdminCredential(security: SecurityComponent, adminToken: string | undefined): AdminAuthorizer {
  const adminCredential = bearerCredentialAuthorizer(adminToken);
  return async (request) => {
    if (await adminCredential(request)) return true;
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
    if (!token) return false;
    const user = await security.tokens.verify(token).catch(() => undefined);
    return user?.root === true;
  };
}
