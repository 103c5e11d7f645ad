import { mkdir } from "node:fs/promises";
import type { Logger } from "pino";
import { type AdminAuthorizer, bearerCredentialAuthorizer } from "../admin/authorize.js";
import type { ServerConfig } from "../config/schema.js";
import type { Composition } from "./composition.js";
import { openData } from "./data.js";
import { openMessaging } from "./messaging.js";
import { identityMiddleware, openSecurity, type Security } from "./security.js";
import { openSessions } from "./sessions.js";

/**
 * Opens every store and builds the server's parts from the config. Stores open before the
 * ports listen, so a route never meets a half-open store; components stop in reverse order.
 */
export async function composeAmp(config: ServerConfig, logger: Logger): Promise<Composition> {
  await mkdir(config.databaseDir, { recursive: true });
  const security = await openSecurity(config, logger);
  const data = openData(config, logger, security);
  const messaging = await openMessaging(config, logger, security, data.apps);
  const sessions = await openSessions(config, logger, security, data.apps, messaging);
  return {
    // Started in this order and stopped in reverse: sessions end before the stores they use close.
    components: [security.component, data.component, messaging.component, sessions],
    middleware: [identityMiddleware(security)],
    authorizeAdmin: rootOrAdminCredential(security, config.adminToken),
  };
}

/** The admin debug routes take a root user's token, or the operator's `RMX_ADMIN_TOKEN`. */
function rootOrAdminCredential(security: Security, adminToken: string | undefined): AdminAuthorizer {
  const adminCredential = bearerCredentialAuthorizer(adminToken);
  return async (request) => {
    if (await adminCredential(request)) return true;
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
    if (!token) return false;
    const user = await security.tokens.verify(token).catch(() => undefined);
    return user?.root === true;
  };
}
