import type { Expr, Literal } from "../../src/query/index.js";

/**
 * Translates our filter AST to a MongoDB filter with the same meaning, for the
 * fragment the differential test generates: plain JSON scalars (string, finite
 * number other than -0, boolean, null) as literals, documents whose arrays hold
 * only scalars, and paths without numeric parts. Our operators never look inside
 * arrays and never treat a missing field as null, so each comparison is guarded
 * with `$exists` and "not an array"; negation is `$nor`, so `!=` stays `!(==)`.
 */
export type MongoFilter = Record<string, unknown>;

export function toMongo(e: Expr): MongoFilter {
  switch (e.op) {
    case "and":
      return { $and: e.args.map(toMongo) };
    case "or":
      return { $or: e.args.map(toMongo) };
    case "not":
      return { $nor: [toMongo(e.arg)] };
    case "exists":
      return { [key(e.path)]: { $exists: true } };
    case "contains":
      return { [key(e.path)]: { $elemMatch: { $eq: scalar(e.value) } } };
    case "startsWith":
      return guarded(e.path, { $regex: new RegExp(`^${escapeRegex(e.value)}`) });
    case "in":
      return guarded(e.path, { $in: e.values.map(scalar) });
    case "==":
      return guarded(e.path, { $eq: scalar(e.value) });
    case "!=":
      return { $nor: [guarded(e.path, { $eq: scalar(e.value) })] };
    case "<":
      return guarded(e.path, { $lt: scalar(e.value) });
    case "<=":
      return guarded(e.path, { $lte: scalar(e.value) });
    case ">":
      return guarded(e.path, { $gt: scalar(e.value) });
    case ">=":
      return guarded(e.path, { $gte: scalar(e.value) });
  }
}

const key = (path: string[]): string => path.join(".");

function guarded(path: string[], condition: MongoFilter): MongoFilter {
  const k = key(path);
  return { $and: [{ [k]: condition }, { [k]: { $exists: true } }, { [k]: { $not: { $type: "array" } } }] };
}

function scalar(l: Literal): string | number | boolean | null {
  if (l !== null && typeof l === "object") throw new Error("outside the differential fragment");
  return l;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
