import { createHash } from "node:crypto";
import { bodyLimit, jsonBody } from "@amp/http-edge";
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { AppsError } from "../errors.js";
import { fromAst, parse, type Query } from "../query/index.js";
import {
  AppParam,
  type AppsEnv,
  type AppsRouter,
  actingUser,
  appName,
  bodyErrors,
  DocumentSchema,
  errorResponses,
  type HttpLimits,
  type RouteContext,
} from "./common.js";
import { toJson } from "./tagged-json.js";

const QUERY_ROLES = ["allowed_read", "allowed_run"] as const;

const results = {
  description: "Matching documents (tagged JSON), projected when the query has `| {…}`",
  headers: z.object({ ETag: z.string(), "X-Next-Cursor": z.string().optional() }),
  content: { "application/json": { schema: z.array(DocumentSchema) } },
};
const notModified = { description: "Unchanged since the ETag in If-None-Match (the query was not run)" };

const declareRoutes = (limits: HttpLimits) => ({
  get: createRoute({
    method: "get",
    path: "/{app}/query.json",
    summary: "Run a query given in the string form",
    request: {
      params: AppParam,
      query: z.object({
        query: z
          .string()
          .openapi({ example: '_rmx_type == "executable_cross" && variant == "WASM" | { dataRef }' }),
      }),
    },
    responses: { 200: results, 304: notModified, ...errorResponses },
  }),
  post: createRoute({
    method: "post",
    path: "/{app}/query",
    summary: "Run a query given as a string or as a JSON AST",
    middleware: [bodyLimit(limits.maxJsonBytes)] as const,
    request: {
      params: AppParam,
      body: jsonBody(
        z.union([z.object({ query: z.string() }), z.object({ ast: z.record(z.string(), z.unknown()) })]),
      ),
    },
    responses: { 200: results, 304: notModified, ...errorResponses, ...bodyErrors },
  }),
});

/** A strong ETag for (app instance, change sequence, query text): equal only if the answer would be. */
export function queryEtag(instance: string, seq: number, queryText: string): string {
  return `"${instance}-${seq}-${queryDigest(queryText)}"`;
}

/** Digests of recent query texts: clients repeat the same few queries, a hash each time is waste. */
const digests = new Map<string, string>();
const DIGESTS_MAX = 1024;
const DIGEST_TEXT_MAX = 1024;

function queryDigest(text: string): string {
  const known = digests.get(text);
  if (known !== undefined) return known;
  const digest = createHash("sha1").update(text).digest("base64url");
  if (text.length <= DIGEST_TEXT_MAX) {
    if (digests.size >= DIGESTS_MAX) digests.clear();
    digests.set(text, digest);
  }
  return digest;
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch === etag) return true; // the usual case: the one ETag the client was given
  return ifNoneMatch.split(",").some((t) => {
    const tag = t.trim();
    return tag === etag || tag === `W/${etag}` || tag === "*";
  });
}

/**
 * Recent 200 answers by ETag. The ETag names (app instance, change sequence, query text), so an
 * answer under it is the same bytes for every caller, as the 304 path already relies on: a query
 * asked again before the app changes is served without running, decoding or encoding again.
 * Bounded by bytes; an answer over `maxEntryBytes` is not kept; oldest out first.
 */
export class AnswerCache {
  private readonly entries = new Map<string, { body: string; next: string | undefined }>();
  private bytes = 0;

  constructor(
    private readonly maxBytes = 8 * 1024 * 1024,
    private readonly maxEntryBytes = 256 * 1024,
  ) {}

  get(etag: string): { body: string; next: string | undefined } | undefined {
    return this.entries.get(etag);
  }

  set(etag: string, body: string, next: string | undefined): void {
    const size = body.length * 2 + etag.length * 2;
    if (size > this.maxEntryBytes || this.entries.has(etag)) return;
    for (const [key, entry] of this.entries) {
      if (this.bytes + size <= this.maxBytes) break;
      this.entries.delete(key);
      this.bytes -= entry.body.length * 2 + key.length * 2;
    }
    this.entries.set(etag, { body, next });
    this.bytes += size;
  }
}

export function queryRoutes(router: AppsRouter, { apps, limits }: RouteContext): void {
  const routes = declareRoutes(limits);
  const answers = new AnswerCache();
  const ok = (c: Context<AppsEnv>, etag: string, body: string, next: string | undefined) => {
    const headers: Record<string, string> = { ETag: etag, "Content-Type": "application/json" };
    if (next !== undefined) headers["X-Next-Cursor"] = next;
    return c.body(body, 200, headers);
  };

  const answer = async (c: Context<AppsEnv>, key: string, toQuery: () => Query) => {
    if (key.length > limits.maxQueryLength) {
      throw new AppsError("bad_query", `query longer than ${limits.maxQueryLength} characters`);
    }
    const store = await apps.store(actingUser(c), appName(c), QUERY_ROLES);
    // The committed sequence (on PostgreSQL, every node's writes), so all nodes give one ETag.
    const seq = await store.currentSeq();
    const etag = queryEtag(store.instance, seq, key);
    if (matches(c.req.header("if-none-match"), etag)) return c.body(null, 304, { ETag: etag });
    const known = answers.get(etag);
    if (known) return ok(c, etag, known.body, known.next);
    const query = toQuery(); // a bad query is refused, never cached
    // Off the event loop when it is expensive (see DocumentStore.query).
    const { documents, next } = await store.query(query);
    const body = JSON.stringify(documents.map((d) => toJson(d)));
    // The store may have moved on while the query ran (the worker, this node's writes): then the
    // answer is not cached under the ETag it was asked for.
    if (store.seq <= seq) answers.set(etag, body, next);
    return ok(c, etag, body, next);
  };

  // The revalidation fast path: a GET carrying If-None-Match is answered here,
  // before schema validation and without parsing the query, when the ETag still
  // holds (ACL and limits are checked all the same). Anything else goes on.
  router.get("/:app/query.json", async (c, next) => {
    const ifNoneMatch = c.req.header("if-none-match");
    const text = ifNoneMatch === undefined ? undefined : c.req.query("query");
    if (text === undefined) return next();
    if (text.length > limits.maxQueryLength) {
      throw new AppsError("bad_query", `query longer than ${limits.maxQueryLength} characters`);
    }
    const store = await apps.store(actingUser(c), appName(c), QUERY_ROLES);
    const etag = queryEtag(store.instance, await store.currentSeq(), text);
    if (matches(ifNoneMatch, etag)) return c.body(null, 304, { ETag: etag });
    return next();
  });

  router.openapi(routes.get, (c) => {
    const text = c.req.valid("query").query;
    return answer(c, text, () => parse(text));
  });

  router.openapi(routes.post, (c) => {
    const body = c.req.valid("json");
    if ("query" in body) return answer(c, body.query, () => parse(body.query));
    return answer(c, JSON.stringify(body.ast), () => fromAst(body.ast));
  });
}
