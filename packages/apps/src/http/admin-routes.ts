import {
  binaryResponse,
  bodyChunks,
  bodyLimit,
  errorResponses as edgeErrors,
  jsonBody,
  jsonResponse as jsonOk,
} from "@amp/http-edge";
import { createRoute, z } from "@hono/zod-openapi";
import { ROLES } from "../acl/roles.js";
import type { AppInfo } from "../apps.js";
import { exportRemix } from "../remix/export.js";
import type { KnownFfis } from "../remix/ffi-report.js";
import { importRemix } from "../remix/import.js";
import type { ArchiveLimits } from "../remix/limits.js";
import {
  AppParam,
  type AppsRouter,
  actingUser,
  appName,
  bodyErrors,
  errorResponses,
  type HttpLimits,
  type RouteContext,
} from "./common.js";
import { multipartBoundary, multipartFile } from "./multipart.js";

export const AppInfoSchema = z
  .object({
    name: z.string(),
    displayName: z.string(),
    indexedFields: z.array(z.string()),
    createdAt: z.string(),
    createdBy: z.string(),
    ffis: z
      .array(z.string())
      .optional()
      .openapi({ description: "import only: the FFIs the app's code names" }),
    unansweredFfis: z.array(z.string()).optional().openapi({
      description: "import only: the FFIs the app's code names that this server does not answer",
    }),
  })
  .openapi("AppInfo");
const RuleSchema = z
  .object(Object.fromEntries(ROLES.map((r) => [r, z.array(z.string().max(256)).max(10_000).optional()])))
  .openapi("AclRule");

const declareRoutes = (limits: HttpLimits) => ({
  list: createRoute({
    method: "get",
    path: "/x/apps",
    summary: "Apps on which the user holds any role",
    responses: { 200: jsonOk("Apps", z.array(AppInfoSchema)) },
  }),
  create: createRoute({
    method: "post",
    path: "/x/apps",
    summary:
      "Create an empty app (needs allowed_create on the server rule `*`); the creator becomes its builder",
    middleware: [bodyLimit(limits.maxJsonBytes)] as const,
    request: {
      body: jsonBody(
        z.object({
          name: z.string().max(100),
          displayName: z.string().max(200).optional(),
          indexedFields: z.array(z.string().min(1).max(256)).max(32).optional(),
        }),
      ),
    },
    responses: {
      201: jsonOk("Created", AppInfoSchema),
      ...errorResponses,
      ...edgeErrors(409),
      ...bodyErrors,
    },
  }),
  remove: createRoute({
    method: "delete",
    path: "/x/apps/{app}",
    summary: "Delete an app and all its data (needs allowed_build)",
    request: { params: AppParam },
    responses: { 204: { description: "Deleted" }, ...errorResponses },
  }),
  getAcl: createRoute({
    method: "get",
    path: "/x/apps/{app}/acl",
    summary: "The app's ACL rule (needs allowed_build)",
    request: { params: AppParam },
    responses: { 200: jsonOk("Rule", RuleSchema), ...errorResponses },
  }),
  putAcl: createRoute({
    method: "put",
    path: "/x/apps/{app}/acl",
    summary: "Replace the app's ACL rule (needs allowed_build)",
    middleware: [bodyLimit(limits.maxJsonBytes)] as const,
    request: { params: AppParam, body: jsonBody(RuleSchema) },
    responses: { 204: { description: "Stored" }, ...errorResponses, ...bodyErrors },
  }),
  importApp: createRoute({
    method: "post",
    path: "/x/apps/import",
    summary: "Import a .remix archive (the request body), creating every app it holds",
    middleware: [bodyLimit(limits.maxArchiveBytes)] as const,
    description:
      "The archive is the body (`application/zip`), or the one file field of a `multipart/form-data` " +
      "form (a browser upload; other fields are ignored). Either way the body is streamed and refused " +
      "(413) past the archive limit before it is buffered; a form without a file, or with two, is a 400.",
    request: {
      body: {
        required: true,
        content: {
          "application/zip": { schema: z.string().openapi({ format: "binary" }) },
          // A plain OpenAPI schema, not zod: the route streams the form itself (no buffered validation).
          "multipart/form-data": {
            schema: {
              type: "object",
              properties: { file: { type: "string", format: "binary", description: "the .remix" } },
              required: ["file"],
            },
          },
        },
      },
    },
    responses: {
      201: jsonOk("Created apps", z.array(AppInfoSchema)),
      ...errorResponses,
      ...edgeErrors(409),
      ...bodyErrors,
    },
  }),
  exportApp: createRoute({
    method: "post",
    path: "/x/apps/export",
    summary: "Export apps as a .remix archive; the body is a manifest naming them in `apps`",
    middleware: [bodyLimit(limits.maxJsonBytes)] as const,
    request: {
      body: jsonBody(z.looseObject({ apps: z.record(z.string(), z.boolean()) })),
    },
    responses: {
      200: binaryResponse("The .remix archive (streamed)", "application/zip"),
      ...errorResponses,
      ...bodyErrors,
    },
  }),
});

const info = (i: AppInfo) => ({ ...i, indexedFields: [...i.indexedFields] });

export interface AdminRouteOptions {
  readonly archiveLimits?: Partial<ArchiveLimits>;
  /** The FFIs the server answers; an import reports the ones each app names that it does not. */
  readonly ffis?: KnownFfis;
}

export function adminRoutes(
  router: AppsRouter,
  { apps, limits }: RouteContext,
  options: AdminRouteOptions,
): void {
  const routes = declareRoutes(limits);

  router.openapi(routes.list, (c) => c.json(apps.list(actingUser(c)).map(info), 200));

  router.openapi(routes.create, async (c) => {
    const { name, ...rest } = c.req.valid("json");
    return c.json(info(await apps.create(actingUser(c), name, rest)), 201);
  });

  router.openapi(routes.remove, async (c) => {
    await apps.delete(actingUser(c), appName(c));
    return c.body(null, 204);
  });

  router.openapi(routes.getAcl, (c) => {
    const rule = apps.rules(actingUser(c), appName(c));
    return c.json(Object.fromEntries(Object.entries(rule).map(([role, who]) => [role, [...who]])), 200);
  });

  router.openapi(routes.putAcl, async (c) => {
    await apps.setRules(actingUser(c), appName(c), c.req.valid("json"));
    return c.body(null, 204);
  });

  router.openapi(routes.importApp, async (c) => {
    const user = actingUser(c);
    const body = bodyChunks(c);
    const boundary = multipartBoundary(c.req.header("content-type"));
    const source = boundary === undefined ? body : multipartFile(body, boundary);
    const created = await importRemix(apps, user, source, {
      ...(options.archiveLimits ? { limits: options.archiveLimits } : {}),
      ...(options.ffis ? { ffis: options.ffis } : {}),
    });
    return c.json(created.map(info), 201);
  });

  router.openapi(routes.exportApp, (c) => {
    const user = actingUser(c);
    const manifest = c.req.valid("json");
    const stream = exportRemix(apps, user, manifest);
    const file = Object.keys(manifest.apps)[0] ?? "export";
    return c.body(stream, 200, {
      "Content-Type": "application/zip",
      "Content-Disposition": `attachment; filename="${file}.remix"`,
    });
  });
}
