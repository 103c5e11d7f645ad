import { fromAst, parse, print, type Query, type WriteOp } from "@amp/apps";
import { isMixArray, isMixMap, MixCase, type MixMap, type MixValue } from "@amp/codec";
import type { FfiContext, FfiHandler } from "@amp/machine";
import type { TrackApps } from "../ports.js";
import { appsError } from "../session/app-code.js";
import { numberOf, optionalMap, type SessionLookup, sessionOf, stringArg } from "./args.js";

const READ_ROLES = ["allowed_read", "allowed_run"] as const;
const WRITE_ROLES = ["allowed_run"] as const;
const MAX_BATCH = 1000;
const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 10_000;

/**
 * `$db_*` on `@amp/apps`, with the session user's rights on the app (the session's app unless
 * `options.app` names another). Argument and result shapes are in the README.
 */
export function dbFfis(apps: TrackApps, find: SessionLookup): Record<string, FfiHandler> {
  const store = async (
    ctx: FfiContext,
    options: MixMap,
    roles: readonly ("allowed_read" | "allowed_run")[],
  ) => {
    const session = sessionOf(find, ctx);
    const app = typeof options.app === "string" ? options.app : session.app;
    try {
      return { store: await apps.store(session.user, app, roles), user: session.user };
    } catch (e) {
      appsError(e);
    }
  };
  // Off the event loop when the query is expensive (DocumentStore.query).
  const run = async (args: MixValue[], ctx: FfiContext) => {
    const options = optionalMap(args, 1, ctx.name);
    const query = toQuery(args[0], ctx.name);
    const limit = Math.min(numberOf(options.limit) ?? query.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
    const after = typeof options.after === "string" ? options.after : query.after;
    const q: Query = { ...query, limit, ...(after !== undefined ? { after } : {}) };
    return (await store(ctx, options, READ_ROLES)).store.query(q);
  };
  const write = async (ops: WriteOp[], args: MixValue[], ctx: FfiContext) => {
    if (ops.length > MAX_BATCH) throw new Error(`${ctx.name}: at most ${MAX_BATCH} documents per call`);
    const { store: s, user } = await store(ctx, optionalMap(args, 1, ctx.name), WRITE_ROLES);
    return [...(await s.write(ops, user.id)).results];
  };
  return {
    $db_get_a: async (args, ctx) => (await run(args, ctx)).documents,
    $db_get_one: async (args, ctx) =>
      (await run([args[0], { ...optionalMap(args, 1, ctx.name), limit: 1 }], ctx)).documents[0] ?? null,
    $db_execute_next: async (args, ctx) => {
      const result = await run(args, ctx);
      return { documents: result.documents, next: result.next ?? null };
    },
    $db_save_a: (args, ctx) => {
      const docs = args[0];
      if (!isMixArray(docs) || !docs.every(isMixMap))
        throw new Error(`${ctx.name}: argument 1 must be a list of maps`);
      return write(
        docs.map((doc) => ({ op: "upsert", doc })),
        args,
        ctx,
      );
    },
    $db_save_one: async (args, ctx) => {
      const doc = args[0];
      if (!isMixMap(doc)) throw new Error(`${ctx.name}: argument 1 must be a map`);
      const [saved] = await write([{ op: "upsert", doc }], args, ctx);
      return saved ?? null;
    },
    $db_delete_a: (args, ctx) => {
      const items = args[0];
      if (!isMixArray(items)) throw new Error(`${ctx.name}: argument 1 must be a list of ids or documents`);
      const ops: WriteOp[] = items.map((item) => {
        const id = isMixMap(item) ? item._rmx_id : item;
        if (typeof id !== "string") throw new Error(`${ctx.name}: every item needs an _rmx_id`);
        return { op: "delete", id };
      });
      return write(ops, args, ctx);
    },
    $db_parse: (args, ctx) => asValue(parse(stringArg(args, 0, ctx.name, "query"))),
    $db_fromString: (args, ctx) => asValue(parse(stringArg(args, 0, ctx.name, "query"))),
    $db_fromAST: (args, ctx) => asValue(toQuery(args[0], ctx.name)),
    // Our design (no public host answers it): `$db_fromAST` as a result case, `ok(ast)` or `error(message)`.
    $db_fromAST_result: (args, ctx) => {
      try {
        return new MixCase("ok", asValue(toQuery(args[0], ctx.name)));
      } catch (e) {
        return new MixCase("error", e instanceof Error ? e.message : String(e));
      }
    },
    $db_toString: (args, ctx) => print(toQuery(args[0], ctx.name)),
  };
}

/** A query from the VM: its string form or its AST (a map). */
function toQuery(v: MixValue, ffi: string): Query {
  if (typeof v === "string") return parse(v);
  if (isMixMap(v)) return fromAst(v);
  throw new Error(`${ffi}: the query must be a string or a query AST map`);
}

/** The AST is plain JSON, which is a Mix value as it is. */
function asValue(q: Query): MixValue {
  return q as unknown as MixValue;
}
