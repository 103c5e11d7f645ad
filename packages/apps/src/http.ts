import { edgeApp } from "@amp/http-edge";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Apps } from "./apps.js";
import { adminRoutes } from "./http/admin-routes.js";
import { appDetailRoutes } from "./http/app-detail-routes.js";
import { type AppsEnv, DEFAULT_HTTP_LIMITS, type HttpLimits } from "./http/common.js";
import { documentRoutes } from "./http/document-routes.js";
import { fileRoutes } from "./http/file-routes.js";
import { queryRoutes } from "./http/query-routes.js";
import { recordRoutes } from "./http/record-routes.js";
import type { KnownFfis } from "./remix/ffi-report.js";
import type { ArchiveLimits } from "./remix/limits.js";

export type { AppsEnv, HttpLimits } from "./http/common.js";
export { DEFAULT_HTTP_LIMITS } from "./http/common.js";
export { queryEtag } from "./http/query-routes.js";

export interface AppsRoutesOptions {
  readonly apps: Apps;
  /** Request size limits (see DEFAULT_HTTP_LIMITS). */
  readonly limits?: Partial<HttpLimits>;
  /** Limits on uploaded `.remix` archives (see DEFAULT_ARCHIVE_LIMITS). */
  readonly archiveLimits?: Partial<ArchiveLimits>;
  /**
   * The FFIs the server answers (for amp: `trackFfiCatalog()` from `@amp/track`): an import then
   * reports, per app, the FFIs its code names that the server would not answer (`unansweredFfis`).
   */
  readonly ffis?: KnownFfis;
}

/**
 * The apps HTTP API as a Hono sub-app for `app.route("/", appsRoutes({apps}))`.
 * It reads the acting user from `c.get("user")`, which `@amp/auth`'s
 * middleware sets; mount that middleware first.
 */
export function appsRoutes(options: AppsRoutesOptions): OpenAPIHono<AppsEnv> {
  const router = edgeApp<AppsEnv>({ logger: options.apps.logger, scope: "apps" });
  const ctx = { apps: options.apps, limits: { ...DEFAULT_HTTP_LIMITS, ...options.limits } };
  // Order matters: /x/apps/* before the /{app} patterns, which would otherwise match "x".
  adminRoutes(router, ctx, {
    ...(options.archiveLimits ? { archiveLimits: options.archiveLimits } : {}),
    ...(options.ffis ? { ffis: options.ffis } : {}),
  });
  appDetailRoutes(router, ctx);
  queryRoutes(router, ctx);
  recordRoutes(router, ctx);
  fileRoutes(router, ctx);
  documentRoutes(router, ctx);
  return router;
}
