import { isMixMap, isRef, type MixMap, type MixValue } from "@amp/codec";
import {
  binaryResponse,
  bodyLimit,
  errorResponses as edgeErrors,
  errorResponse,
  httpError,
  jsonBody,
  jsonResponse,
  readBody,
  readJson,
} from "@amp/http-edge";
import { createRoute, z } from "@hono/zod-openapi";
import { AppsError } from "../errors.js";
import { checkAppName, checkItemName } from "../names.js";
import { APP_RECORD_ID, LIBRARY_TYPE_PREFIX } from "../remix/layout.js";
import { decodeRemixMsgpack, encodeRemixMsgpack } from "../remix/remix-msgpack.js";
import type { DocumentStore, WriteOp } from "../store/store.js";
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
import { documentFromJson, toJson } from "./tagged-json.js";

/** `records.mp`'s media type: msgpack as `@amp/codec` writes it (refs as `{ref}<id>` strings). */
export const MSGPACK = "application/x-msgpack";
/** Most records one `GET /{app}/records` answers; past it, page with `GET /{app}`. */
const MAX_RECORDS = 100_000;

const RecordsJson = z.object({ records: z.array(DocumentSchema) }).openapi("Records");
const LinkBody = z
  .object({
    from: z
      .string()
      .max(100)
      .openapi({ description: "the app the record is linked from", example: "catalog" }),
    id: z.string().max(256).openapi({ description: "the record's _rmx_id there" }),
    as: z.string().max(256).optional().openapi({ description: "its _rmx_id here (default: the same)" }),
    replace: z.boolean().optional().openapi({ description: "overwrite a record of that id here" }),
  })
  .openapi("LinkRequest");
const binary = binaryResponse("", MSGPACK).content;

const declareRoutes = (limits: HttpLimits) => ({
  get: createRoute({
    method: "get",
    path: "/{app}/records",
    summary: "The app's records: what `records.mp` holds for it in a .remix export (needs allowed_read)",
    description:
      "Every document except the app record and the libraries. `Accept: application/x-msgpack` answers the " +
      "`records.mp` encoding (an array of records); otherwise tagged JSON `{records}`. At most 100 000 records " +
      "(413 past it; page with GET /{app}).",
    request: { params: AppParam },
    responses: {
      200: {
        description: "The records",
        content: { "application/json": { schema: RecordsJson }, ...binary },
      },
      413: errorResponse("Too many records for one answer (`too_large`)"),
      ...errorResponses,
    },
  }),
  put: createRoute({
    method: "put",
    path: "/{app}/records",
    summary: "Write records into the app, all or nothing (needs allowed_create)",
    middleware: [bodyLimit(limits.maxFileBytes)] as const,
    description:
      "The body is a `records.mp`-style msgpack array (`application/x-msgpack`) or JSON `{records}` / an array. " +
      "Each record needs `_rmx_id` and `_rmx_type`; it is upserted, stamped by the store as this user (the " +
      "revision and timestamps it carries are replaced). The app record and library ids are refused. " +
      "`?replace=true` also deletes the app's records the body does not name.",
    request: {
      params: AppParam,
      query: z.object({ replace: z.enum(["true", "false"]).optional() }),
      body: {
        required: true,
        content: {
          // Plain OpenAPI schemas, not zod: the route reads the body itself, limited, in either encoding.
          "application/json": {
            schema: {
              oneOf: [
                { type: "object", properties: { records: { type: "array", items: { type: "object" } } } },
                { type: "array", items: { type: "object" } },
              ],
            },
          },
          [MSGPACK]: { schema: { type: "string", format: "binary" } },
        },
      },
    },
    responses: {
      200: jsonResponse("Written", z.object({ seq: z.number(), written: z.number(), deleted: z.number() })),
      ...errorResponses,
      ...bodyErrors,
    },
  }),
  link: createRoute({
    method: "post",
    path: "/{app}/link",
    summary: "Link a record of another app into this one (allowed_read there, allowed_create here)",
    middleware: [bodyLimit(limits.maxJsonBytes)] as const,
    description:
      "Copies the record `id` of app `from` into this app (as `as`, default the same id) with " +
      "`_rmx_link: {app, id, rev}` naming where it came from, and copies the blobs its refs point to, so " +
      "`/{app}/raw/{ref}` serves them here. An existing record of that id is a 409 unless `replace`.",
    request: { params: AppParam, body: jsonBody(LinkBody) },
    responses: {
      201: jsonResponse(
        "The linked record and the blobs copied",
        z.object({ document: DocumentSchema, blobs: z.array(z.string()) }),
      ),
      ...errorResponses,
      ...edgeErrors(409),
      ...bodyErrors,
    },
  }),
});

/** Documents that are records (not the app record, not a library). */
function isRecordId(id: string): boolean {
  return id !== APP_RECORD_ID && !id.startsWith(LIBRARY_TYPE_PREFIX);
}

async function records(store: DocumentStore): Promise<MixMap[]> {
  const out: MixMap[] = [];
  for await (const doc of store.allDocuments()) {
    if (!isRecordId(doc._rmx_id as string)) continue;
    if (out.length >= MAX_RECORDS)
      throw new AppsError("too_large", `more than ${MAX_RECORDS} records: page with GET /{app}`);
    out.push(doc);
  }
  return out;
}

/** A record to write: its id checked, the revision stamps dropped (the store sets them). */
function recordToWrite(doc: MixMap): MixMap {
  const id = doc._rmx_id;
  if (typeof id !== "string") throw new AppsError("invalid_document", "each record needs _rmx_id");
  checkItemName(id);
  if (!isRecordId(id))
    throw new AppsError("invalid_document", `${id} is not a record id (app record or library)`);
  const { _rmx_rev, _rmx_previous, ...rest } = doc;
  return rest;
}

/** Every ref anywhere in a value. */
function refsIn(value: MixValue, out: Set<string>, depth = 0): Set<string> {
  if (depth > 64) return out;
  if (isRef(value)) out.add(value.value);
  else if (Array.isArray(value)) for (const v of value) refsIn(v, out, depth + 1);
  else if (isMixMap(value)) for (const v of Object.values(value)) refsIn(v, out, depth + 1);
  return out;
}

/**
 * `/{app}/records` and `/{app}/link`. amp's own design: the original Go server's contract for
 * these routes is not public (see the README).
 */
export function recordRoutes(router: AppsRouter, { apps, limits }: RouteContext): void {
  const routes = declareRoutes(limits);

  router.openapi(routes.get, async (c) => {
    const store = await apps.store(actingUser(c), appName(c), ["allowed_read"]);
    const list = await records(store);
    if (/application\/x-msgpack/i.test(c.req.header("accept") ?? "")) {
      return c.body(new Uint8Array(encodeRemixMsgpack(list)), 200, { "content-type": MSGPACK });
    }
    return c.json({ records: list.map((d) => toJson(d)) }, 200);
  });

  router.openapi(routes.put, async (c) => {
    const user = actingUser(c);
    const store = await apps.store(user, appName(c), ["allowed_create"]);
    const isMsgpack = /^application\/x-msgpack\s*(;|$)/i.test(c.req.header("content-type") ?? "");
    // The body is read once here, within the route's limit; the validator does not see it.
    let list: unknown;
    if (isMsgpack) list = decodeRemixMsgpack(await readBody(c), "the records");
    else {
      const json = await readJson(c).catch((e: unknown) => {
        if (e instanceof Error && "code" in e && e.code === "unsupported_media_type")
          throw httpError("unsupported_media_type", `send ${MSGPACK} or application/json`);
        throw e;
      });
      list = Array.isArray(json) ? json : (json as { records?: unknown } | null)?.records;
      try {
        if (Array.isArray(list)) list = list.map(documentFromJson);
      } catch (e) {
        if (e instanceof AppsError) throw e;
        throw new AppsError("bad_request", "the body must be an array of records (or {records})");
      }
    }
    if (!Array.isArray(list) || !list.every(isMixMap))
      throw new AppsError("bad_request", "the body must be an array of records (or {records})");
    if (list.length > MAX_RECORDS) throw new AppsError("too_large", `at most ${MAX_RECORDS} records at once`);
    const writes = (list as MixMap[]).map(recordToWrite);
    const named = new Set(writes.map((d) => d._rmx_id as string));
    const ops: WriteOp[] = writes.map((doc) => ({ op: "upsert", doc }));
    let deleted = 0;
    if (c.req.valid("query").replace === "true") {
      for await (const doc of store.allDocuments()) {
        const id = doc._rmx_id as string;
        if (isRecordId(id) && !named.has(id)) {
          ops.push({ op: "delete", id });
          deleted++;
        }
      }
    }
    if (ops.length === 0) return c.json({ seq: await store.currentSeq(), written: 0, deleted: 0 }, 200);
    const result = await store.write(ops, user.id);
    return c.json({ seq: result.seq, written: writes.length, deleted }, 200);
  });

  router.openapi(routes.link, async (c) => {
    const user = actingUser(c);
    const target = await apps.store(user, appName(c), ["allowed_create"]);
    const body = c.req.valid("json");
    const source = await apps.store(user, checkAppName(body.from), ["allowed_read", "allowed_build"]);
    const id = checkItemName(body.id);
    const as = checkItemName(body.as ?? id);
    if (!isRecordId(id) || !isRecordId(as))
      throw new AppsError("bad_request", "only records link (not the app record or a library)");
    const original = await source.get(id);
    if (!original) throw new AppsError("not_found", `no record ${id} in ${body.from}`);
    if (!body.replace && (await target.get(as))) throw new AppsError("conflict", `record ${as} exists here`);

    const copied: string[] = [];
    for (const ref of refsIn(original, new Set())) {
      if ((await source.blobs.info(ref)) === undefined || (await target.blobs.info(ref)) !== undefined)
        continue;
      await target.blobs.put([await source.blobs.read(ref)]);
      copied.push(ref);
    }
    const { _rmx_rev, _rmx_previous, ...fields } = original;
    const doc: MixMap = {
      ...fields,
      _rmx_id: as,
      _rmx_link: { app: source.app, id, ...(_rmx_rev !== undefined ? { rev: _rmx_rev } : {}) },
    };
    const result = await target.write([{ op: body.replace ? "upsert" : "insert", doc }], user.id);
    return c.json({ document: toJson(result.results[0]!), blobs: copied }, 201);
  });
}
