import { jsonResponse } from "@amp/http-edge";
import { createRoute, z } from "@hono/zod-openapi";
import { ROLES } from "../acl/roles.js";
import { FFI_REPORT_META, type FfiReport } from "../remix/ffi-report.js";
import { AppInfoSchema } from "./admin-routes.js";
import {
  AppParam,
  type AppsRouter,
  actingUser,
  appName,
  errorResponses,
  type RouteContext,
} from "./common.js";

const FfiReportSchema = z
  .object({
    ffis: z.array(z.string()).openapi({ description: "every FFI the app's code names" }),
    unansweredFfis: z.array(z.string()).optional().openapi({
      description: "those this server does not answer; absent when the server was not told its FFIs",
    }),
    unreadable: z.record(z.string(), z.string()).optional().openapi({
      description: "code files whose qcode could not be read, with why",
    }),
  })
  .openapi("FfiReport");

const AppDetailSchema = AppInfoSchema.omit({ ffis: true, unansweredFfis: true })
  .extend({
    roles: z.array(z.enum(ROLES)).openapi({
      description: "the caller's roles on the app (a builder and root hold them all)",
    }),
    ffiReport: FfiReportSchema.nullable().openapi({
      description: "what the app's code asks of the server, kept from its import; null without compiled code",
    }),
  })
  .openapi("AppDetail");

const detailRoute = createRoute({
  method: "get",
  path: "/x/apps/{app}",
  summary: "One app as the caller sees it: its info, the caller's roles on it, its FFI report (any role)",
  request: { params: AppParam },
  responses: { 200: jsonResponse("The app", AppDetailSchema), ...errorResponses },
});

/**
 * `GET /x/apps/{app}`: lets a client (the console) show what a user may do from the API's own
 * answer instead of guessing from refusals, and the FFIs kept since the import.
 */
export function appDetailRoutes(router: AppsRouter, { apps }: RouteContext): void {
  router.openapi(detailRoute, async (c) => {
    const user = actingUser(c);
    const app = appName(c);
    const info = apps.info(user, app); // 404 unless the user holds a role on it
    const store = await apps.store(user, app, ROLES);
    const report = (await store.getMeta<FfiReport>(FFI_REPORT_META)) ?? null;
    return c.json(
      {
        ...info,
        indexedFields: [...info.indexedFields],
        roles: ROLES.filter((role) => apps.can(user, app, role)),
        ffiReport: report,
      },
      200,
    );
  });
}
