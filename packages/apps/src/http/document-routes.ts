import type { MixMap } from "@amp/codec";
import { bodyLimit, jsonBody as json, jsonResponse as ok } from "@amp/http-edge";
import { createRoute, z } from "@hono/zod-openapi";
import { AppsError } from "../errors.js";
import { checkItemName } from "../names.js";
import type { WriteOp } from "../store/store.js";
import {
  AppParam,
  type AppsRouter,
  actingUser,
  appName,
  bodyErrors,
  DocumentSchema,
  errorResponses,
  type HttpLimits,
  type RouteContext,
} from "./common.js";
import { projectDocument } from "./projection.js";
import { documentFromJson, toJson } from "./tagged-json.js";

const DocsBody = z.union([DocumentSchema, z.array(DocumentSchema).min(1).max(10_000)]);
const WriteResponse = z
  .object({ seq: z.number(), documents: z.array(DocumentSchema) })
  .openapi("WriteResult");

const OpSchema = z.discriminatedUnion("op", [
  z.object({ op: z.enum(["insert", "update", "upsert"]), doc: DocumentSchema }),
  z.object({ op: z.literal("delete"), id: z.string(), rev: z.string().optional() }),
]);
const FileParam = AppParam.extend({
  file: z
    .string()
    .regex(/\.json$/, "the document path ends in .json")
    .openapi({ param: { name: "file", in: "path" }, example: "WBqSKMFpT6ktrpdZTHwNayRWMsg8kNcG.json" }),
});

/** The routes, each declaring its body limit (JSON bodies: `limits.maxJsonBytes`). */
const declareRoutes = (limits: HttpLimits) => ({
  list: createRoute({
    method: "get",
    path: "/{app}",
    summary: "List documents in id order (paged)",
    request: {
      params: AppParam,
      query: z.object({
        limit: z.coerce.number().int().min(1).optional(),
        after: z.string().optional(),
      }),
    },
    responses: {
      200: ok(
        "A page of documents",
        z.object({ documents: z.array(DocumentSchema), next: z.string().optional() }),
      ),
      ...errorResponses,
    },
  }),
  insert: createRoute({
    method: "post",
    path: "/{app}",
    summary: "Insert one document or an array (atomic)",
    middleware: [bodyLimit(limits.maxJsonBytes)] as const,
    request: { params: AppParam, body: json(DocsBody) },
    responses: { 201: ok("Stored documents", WriteResponse), ...errorResponses, ...bodyErrors },
  }),
  update: createRoute({
    method: "put",
    path: "/{app}",
    summary: "Replace existing documents by _rmx_id (atomic; a stale _rmx_rev conflicts)",
    middleware: [bodyLimit(limits.maxJsonBytes)] as const,
    request: { params: AppParam, body: json(DocsBody) },
    responses: { 200: ok("Stored documents", WriteResponse), ...errorResponses, ...bodyErrors },
  }),
  remove: createRoute({
    method: "delete",
    path: "/{app}",
    summary: "Delete documents by id (atomic)",
    middleware: [bodyLimit(limits.maxJsonBytes)] as const,
    request: { params: AppParam, body: json(z.object({ ids: z.array(z.string()).min(1).max(10_000) })) },
    responses: { 200: ok("Deleted", WriteResponse), ...errorResponses, ...bodyErrors },
  }),
  batch: createRoute({
    method: "post",
    path: "/{app}/documents",
    summary: "Apply a batch of insert/update/upsert/delete operations, all or nothing",
    middleware: [bodyLimit(limits.maxJsonBytes)] as const,
    request: { params: AppParam, body: json(z.object({ ops: z.array(OpSchema).min(1).max(10_000) })) },
    responses: { 200: ok("Results in op order", WriteResponse), ...errorResponses, ...bodyErrors },
  }),
  getOne: createRoute({
    method: "get",
    path: "/{app}/documents/{file}",
    summary: "One document, as /{app}/documents/<id>.json",
    request: { params: FileParam },
    responses: { 200: ok("The document", DocumentSchema), ...errorResponses },
  }),
  putOne: createRoute({
    method: "put",
    path: "/{app}/documents/{file}",
    summary: "Create or replace one document",
    middleware: [bodyLimit(limits.maxJsonBytes)] as const,
    request: { params: FileParam, body: json(DocumentSchema) },
    responses: { 200: ok("The stored document", DocumentSchema), ...errorResponses, ...bodyErrors },
  }),
  deleteOne: createRoute({
    method: "delete",
    path: "/{app}/documents/{file}",
    summary: "Delete one document",
    request: { params: FileParam },
    responses: { 200: ok("Deleted", WriteResponse), ...errorResponses },
  }),
  save: createRoute({
    method: "post",
    path: "/{app}/save",
    summary: "Upsert one document; answer the stored document or the projection named by `project`",
    middleware: [bodyLimit(limits.maxJsonBytes)] as const,
    request: {
      params: AppParam,
      body: json(
        z.object({
          document: DocumentSchema,
          project: z.array(z.string().min(1).max(256)).min(1).max(100).optional(),
        }),
      ),
    },
    responses: {
      200: ok("The stored document (projected)", DocumentSchema),
      ...errorResponses,
      ...bodyErrors,
    },
  }),
});

function idFromFile(file: string): string {
  return checkItemName(file.slice(0, -".json".length));
}

function docs(body: unknown): MixMap[] {
  return (Array.isArray(body) ? body : [body]).map(documentFromJson);
}

const READ = ["allowed_read"] as const;
const WRITE = ["allowed_create"] as const;

export function documentRoutes(router: AppsRouter, { apps, limits }: RouteContext): void {
  const routes = declareRoutes(limits);
  const write = async (c: Parameters<Parameters<AppsRouter["openapi"]>[1]>[0], ops: WriteOp[]) => {
    const store = await apps.store(actingUser(c), appName(c), WRITE);
    return store.write(ops, actingUser(c).id);
  };
  const answer = (r: { seq: number; results: readonly MixMap[] }) => ({
    seq: r.seq,
    documents: r.results.map((d) => toJson(d)),
  });

  router.openapi(routes.list, async (c) => {
    const store = await apps.store(actingUser(c), appName(c), READ);
    const { limit, after } = c.req.valid("query");
    const n = Math.min(limit ?? 100, limits.maxListLimit);
    const page = await store.list(n, after);
    const next = page.length === n ? (page[n - 1]!._rmx_id as string) : undefined;
    return c.json({ documents: page.map((d) => toJson(d)), next }, 200);
  });

  router.openapi(routes.insert, async (c) => {
    const ops = docs(c.req.valid("json")).map((doc): WriteOp => ({ op: "insert", doc }));
    return c.json(answer(await write(c, ops)), 201);
  });

  router.openapi(routes.update, async (c) => {
    const ops = docs(c.req.valid("json")).map((doc): WriteOp => {
      if (typeof doc._rmx_id !== "string")
        throw new AppsError("invalid_document", "PUT needs _rmx_id on each document");
      return { op: "update", doc };
    });
    return c.json(answer(await write(c, ops)), 200);
  });

  router.openapi(routes.remove, async (c) => {
    const ops = c.req.valid("json").ids.map((id): WriteOp => ({ op: "delete", id }));
    return c.json(answer(await write(c, ops)), 200);
  });

  router.openapi(routes.batch, async (c) => {
    const ops = c.req
      .valid("json")
      .ops.map(
        (o): WriteOp =>
          o.op === "delete"
            ? { op: "delete", id: o.id, ...(o.rev === undefined ? {} : { rev: o.rev }) }
            : { op: o.op, doc: documentFromJson(o.doc) },
      );
    return c.json(answer(await write(c, ops)), 200);
  });

  router.openapi(routes.getOne, async (c) => {
    const store = await apps.store(actingUser(c), appName(c), READ);
    const id = idFromFile(c.req.valid("param").file);
    const doc = await store.get(id);
    if (!doc) throw new AppsError("not_found", `no document ${id}`);
    return c.json(toJson(doc), 200);
  });

  router.openapi(routes.putOne, async (c) => {
    const id = idFromFile(c.req.valid("param").file);
    const doc = { ...documentFromJson(c.req.valid("json")), _rmx_id: id };
    const r = await write(c, [{ op: "upsert", doc }]);
    return c.json(toJson(r.results[0]!), 200);
  });

  router.openapi(routes.deleteOne, async (c) => {
    const id = idFromFile(c.req.valid("param").file);
    return c.json(answer(await write(c, [{ op: "delete", id }])), 200);
  });

  router.openapi(routes.save, async (c) => {
    const { document, project } = c.req.valid("json");
    const r = await write(c, [{ op: "upsert", doc: documentFromJson(document) }]);
    const saved = r.results[0]!;
    return c.json(toJson(project ? projectDocument(saved, project) : saved), 200);
  });
}
