import { bodyChunks, bodyLimit, binaryResponse as bytes, jsonResponse as jsonOk } from "@amp/http-edge";
import { createRoute, z } from "@hono/zod-openapi";
import { AppsError } from "../errors.js";
import { checkBlobRef, checkItemName } from "../names.js";
import type { FileEntry } from "../store/store.js";
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

const FileSchema = z
  .object({
    name: z.string(),
    ref: z.string(),
    size: z.number(),
    contentType: z.string(),
    public: z.boolean(),
    modifiedAt: z.string(),
    modifiedBy: z.string(),
  })
  .openapi("FileEntry");
const NameParam = AppParam.extend({ name: z.string().openapi({ param: { name: "name", in: "path" } }) });
const RefParam = AppParam.extend({
  ref: z.string().openapi({ param: { name: "ref", in: "path" }, description: "sha256 hex of the blob" }),
});
/** What a content type may look like; anything else is stored as octet-stream. */
const CONTENT_TYPE = /^[\w.+-]+\/[\w.+-]+(\s*;\s*[\w.+-]+=[\w.+"-]+)*$/;

const declareRoutes = (limits: HttpLimits) => ({
  list: createRoute({
    method: "get",
    path: "/{app}/files",
    summary: "List user files",
    request: { params: AppParam },
    responses: { 200: jsonOk("Files", z.array(FileSchema)), ...errorResponses },
  }),
  upload: createRoute({
    method: "put",
    path: "/{app}/files/{name}",
    summary: "Upload a user file (streamed, size-limited; Content-Type is kept)",
    middleware: [bodyLimit(limits.maxFileBytes)] as const,
    request: { params: NameParam },
    responses: { 201: jsonOk("Stored", FileSchema), ...errorResponses, ...bodyErrors },
  }),
  download: createRoute({
    method: "get",
    path: "/{app}/files/{name}",
    summary: "Download a user file (streamed, with its content type)",
    request: { params: NameParam },
    responses: { 200: bytes("The file"), ...errorResponses },
  }),
  remove: createRoute({
    method: "delete",
    path: "/{app}/files/{name}",
    summary: "Delete a user file",
    request: { params: NameParam },
    responses: { 204: { description: "Deleted" }, ...errorResponses },
  }),
  raw: createRoute({
    method: "get",
    path: "/{app}/raw/{ref}",
    summary: "A blob by its sha256 ref (e.g. an executable's dataRef), streamed",
    request: { params: RefParam },
    responses: { 200: bytes("The blob"), ...errorResponses },
  }),
  resources: createRoute({
    method: "get",
    path: "/{app}/resources",
    summary: "The imported app's resources.json",
    request: { params: AppParam },
    responses: { 200: jsonOk("resources.json", z.record(z.string(), z.unknown())), ...errorResponses },
  }),
  runtime: createRoute({
    method: "get",
    path: "/{app}/runtime.json",
    summary: "The imported app's runtime.json",
    request: { params: AppParam },
    responses: { 200: jsonOk("runtime.json", z.record(z.string(), z.unknown())), ...errorResponses },
  }),
});

const RUN = ["allowed_read", "allowed_run"] as const;

function fileJson(e: FileEntry) {
  return { ...e };
}

export function fileRoutes(router: AppsRouter, { apps, limits }: RouteContext): void {
  const routes = declareRoutes(limits);
  router.openapi(routes.list, async (c) => {
    const store = await apps.store(actingUser(c), appName(c), ["allowed_read"]);
    return c.json((await store.files.list()).map(fileJson), 200);
  });

  router.openapi(routes.upload, async (c) => {
    const store = await apps.store(actingUser(c), appName(c), ["allowed_create"]);
    const name = checkItemName(c.req.valid("param").name, "file name");
    const type = c.req.header("content-type") ?? "application/octet-stream";
    const contentType = CONTENT_TYPE.test(type) && type.length < 200 ? type : "application/octet-stream";
    const parts: Uint8Array[] = [];
    for await (const part of bodyChunks(c)) parts.push(part);
    const entry = await store.files.put(name, parts, contentType, actingUser(c).id);
    return c.json(fileJson(entry), 201);
  });

  router.openapi(routes.download, async (c) => {
    const user = actingUser(c);
    const app = appName(c);
    const name = checkItemName(c.req.valid("param").name, "file name");
    // Public files (an imported app's resources) are readable by runners; the rest needs read.
    const store = await apps.store(user, app, RUN);
    const entry = await store.files.get(name);
    if (!entry) throw new AppsError("not_found", `no file ${name}`);
    if (!entry.public) apps.authorize(user, app, ["allowed_read"]);
    return c.body(store.blobs.stream(entry.ref), 200, {
      "Content-Type": entry.contentType,
      "Content-Length": String(entry.size),
      "X-Content-Type-Options": "nosniff",
    });
  });

  router.openapi(routes.remove, async (c) => {
    const store = await apps.store(actingUser(c), appName(c), ["allowed_create"]);
    await store.files.delete(checkItemName(c.req.valid("param").name, "file name"));
    return c.body(null, 204);
  });

  router.openapi(routes.raw, async (c) => {
    const store = await apps.store(actingUser(c), appName(c), RUN);
    const ref = checkBlobRef(c.req.valid("param").ref);
    const info = await store.blobs.info(ref);
    if (!info) throw new AppsError("not_found", "no such blob");
    return c.body(store.blobs.stream(ref), 200, {
      "Content-Type": "application/octet-stream",
      "Content-Length": String(info.size),
      "Cache-Control": "private, max-age=31536000, immutable",
    });
  });

  router.openapi(routes.resources, async (c) => {
    const store = await apps.store(actingUser(c), appName(c), RUN);
    return c.json((await store.getMeta<Record<string, unknown>>("resources.json")) ?? {}, 200);
  });

  router.openapi(routes.runtime, async (c) => {
    const store = await apps.store(actingUser(c), appName(c), RUN);
    const runtime = await store.getMeta<Record<string, unknown>>("runtime.json");
    if (!runtime) throw new AppsError("not_found", "this app has no runtime.json");
    return c.json(runtime, 200);
  });
}
