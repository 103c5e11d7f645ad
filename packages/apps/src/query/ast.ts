import { z } from "zod";
import { QueryAstError, QueryLimitError } from "./errors.js";
import { QUERY_LIMITS } from "./limits.js";

/**
 * The JSON AST of a query. It is what `parse` returns, what `print` takes and
 * what crosses the VM boundary (`$db_fromAST`). Every node is plain JSON.
 * The reference is in docs/query-language.md.
 */

/** A field path: map keys from the document root, e.g. `["meta", "size"]`. */
export type Path = string[];

/** A 64-bit integer literal, kept as a decimal string because JSON has no int64. */
export interface Int64Literal {
  $int64: string;
}
/** A tagged string literal such as a ref `{ref}"abc"`. */
export interface TaggedLiteral {
  $tagged: string;
  value: string;
}
/** A case literal `#Name` or `#Name(arg)`. */
export interface CaseLiteral {
  $case: string;
  arg?: Literal;
}
/** A constant in a filter. Finite numbers only; NaN and infinities are not literals. */
export type Literal = string | number | boolean | null | Int64Literal | TaggedLiteral | CaseLiteral;
/** Literals a range (`< <= > >=`) accepts: ranges only compare numbers with numbers and strings with strings. */
export type RangeLiteral = string | number | Int64Literal;

export type EqualityOp = "==" | "!=";
export type RangeOp = "<" | "<=" | ">" | ">=";

export type Expr =
  | { op: "and"; args: Expr[] }
  | { op: "or"; args: Expr[] }
  | { op: "not"; arg: Expr }
  | { op: EqualityOp; path: Path; value: Literal }
  | { op: RangeOp; path: Path; value: RangeLiteral }
  | { op: "in"; path: Path; values: Literal[] }
  | { op: "contains"; path: Path; value: Literal }
  | { op: "startsWith"; path: Path; value: string }
  | { op: "exists"; path: Path };

/** One output field: the value at `path`, stored under `as` (or nested at `path` itself when absent). */
export interface ProjectionField {
  path: Path;
  as?: string;
}

export interface SortKey {
  path: Path;
  order: "asc" | "desc";
}

/**
 * A whole query. Every part is optional: `{}` matches every document.
 * The clauses always apply in this order, whatever order the string form wrote them in:
 * filter, sort, after (cursor), offset, limit, project.
 */
export interface Query {
  filter?: Expr;
  project?: ProjectionField[];
  sort?: SortKey[];
  after?: string;
  offset?: number;
  limit?: number;
}

export const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function isInt64Text(text: string): boolean {
  if (!/^(0|-?[1-9][0-9]*)$/.test(text) || text.length > 20) return false;
  const v = BigInt(text);
  return v >= INT64_MIN && v <= INT64_MAX;
}

const PathSchema = z.array(z.string()).min(1).max(QUERY_LIMITS.maxPathSegments);
const Int64Schema = z.strictObject({
  $int64: z.string().refine(isInt64Text, "must be a decimal integer in the int64 range"),
});
const TaggedSchema = z.strictObject({
  $tagged: z.string().regex(IDENTIFIER, "a tag is an identifier"),
  value: z.string(),
});

export const LiteralSchema: z.ZodType<Literal> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    Int64Schema,
    TaggedSchema,
    z.strictObject({
      $case: z.string().regex(IDENTIFIER, "a case name is an identifier"),
      arg: LiteralSchema.optional(),
    }),
  ]),
);
const RangeLiteralSchema = z.union([z.string(), z.number(), Int64Schema]);

export const ExprSchema: z.ZodType<Expr> = z.lazy(() =>
  z.discriminatedUnion("op", [
    z.strictObject({ op: z.literal("and"), args: z.array(ExprSchema).min(2) }),
    z.strictObject({ op: z.literal("or"), args: z.array(ExprSchema).min(2) }),
    z.strictObject({ op: z.literal("not"), arg: ExprSchema }),
    z.strictObject({ op: z.enum(["==", "!="]), path: PathSchema, value: LiteralSchema }),
    z.strictObject({ op: z.enum(["<", "<=", ">", ">="]), path: PathSchema, value: RangeLiteralSchema }),
    z.strictObject({
      op: z.literal("in"),
      path: PathSchema,
      values: z.array(LiteralSchema).max(QUERY_LIMITS.maxInList),
    }),
    z.strictObject({ op: z.literal("contains"), path: PathSchema, value: LiteralSchema }),
    z.strictObject({ op: z.literal("startsWith"), path: PathSchema, value: z.string() }),
    z.strictObject({ op: z.literal("exists"), path: PathSchema }),
  ]),
);

const ProjectionFieldSchema = z.strictObject({ path: PathSchema, as: z.string().optional() });
const SortKeySchema = z.strictObject({ path: PathSchema, order: z.enum(["asc", "desc"]) });

export const QueryAstSchema: z.ZodType<Query> = z
  .strictObject({
    filter: ExprSchema.optional(),
    project: z.array(ProjectionFieldSchema).min(1).max(QUERY_LIMITS.maxProjection).optional(),
    sort: z.array(SortKeySchema).min(1).max(QUERY_LIMITS.maxSortKeys).optional(),
    after: z.string().max(QUERY_LIMITS.maxLength).optional(),
    offset: z.number().int().min(0).max(QUERY_LIMITS.maxOffset).optional(),
    limit: z.number().int().min(0).max(QUERY_LIMITS.maxLimit).optional(),
  })
  .superRefine((q, ctx) => {
    const clash = q.project && projectionCollision(q.project);
    if (clash !== undefined)
      ctx.addIssue({ code: "custom", path: ["project", clash], message: "path collision" });
    if (q.filter && exprDepth(q.filter) > QUERY_LIMITS.maxDepth) {
      ctx.addIssue({
        code: "custom",
        path: ["filter"],
        message: `nesting deeper than ${QUERY_LIMITS.maxDepth}`,
      });
    }
  });

/** Where a projection field is written in the output document. */
export function outputPath(field: ProjectionField): Path {
  return field.as === undefined ? field.path : [field.as];
}

/**
 * Index of the first projection field whose output path equals, or is a prefix of,
 * an earlier one's (`{a, a.b}` or `{x: a, x: b}`): the output would be ambiguous.
 */
export function projectionCollision(fields: readonly ProjectionField[]): number | undefined {
  const seen: Path[] = [];
  for (const [i, f] of fields.entries()) {
    const out = outputPath(f);
    for (const other of seen) {
      const n = Math.min(out.length, other.length);
      if (out.slice(0, n).every((seg, j) => seg === other[j])) return i;
    }
    seen.push(out);
  }
  return undefined;
}

/** Nesting depth of a filter: a predicate is 1, each `and`/`or`/`not` adds 1; case literals count too. */
export function exprDepth(e: Expr): number {
  switch (e.op) {
    case "and":
    case "or":
      return 1 + Math.max(...e.args.map(exprDepth));
    case "not":
      return 1 + exprDepth(e.arg);
    case "in":
      return Math.max(1, ...e.values.map(literalDepth));
    case "exists":
      return 1;
    default:
      return literalDepth(e.value);
  }
}

function literalDepth(l: Literal): number {
  return l !== null && typeof l === "object" && "$case" in l && l.arg !== undefined
    ? 1 + literalDepth(l.arg)
    : 1;
}

/**
 * Validates an untrusted JSON AST (e.g. from HTTP or the VM) and returns it typed.
 * Size and depth are checked by an iterative walk first, so hostile input can
 * never overflow the stack in the recursive schema.
 */
export function fromAst(json: unknown): Query {
  checkJsonShape(json);
  const result = QueryAstSchema.safeParse(json);
  if (!result.success) {
    throw new QueryAstError(
      result.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })),
    );
  }
  return result.data;
}

function checkJsonShape(json: unknown): void {
  const maxJsonDepth = 4 * QUERY_LIMITS.maxDepth + 16;
  const stack: [unknown, number][] = [[json, 0]];
  let nodes = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (++nodes > QUERY_LIMITS.maxAstNodes) {
      throw new QueryLimitError("maxAstNodes", QUERY_LIMITS.maxAstNodes, "query AST has too many nodes");
    }
    if (depth > maxJsonDepth) {
      throw new QueryLimitError("maxDepth", QUERY_LIMITS.maxDepth, "query AST is nested too deeply");
    }
    if (v !== null && typeof v === "object") {
      for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
    }
  }
}
