export {
  type CaseLiteral,
  type EqualityOp,
  type Expr,
  ExprSchema,
  fromAst,
  type Int64Literal,
  type Literal,
  LiteralSchema,
  type Path,
  type ProjectionField,
  type Query,
  QueryAstSchema,
  type RangeLiteral,
  type RangeOp,
  type SortKey,
  type TaggedLiteral,
} from "./ast.js";
export { compareMix, Rank, rankOf } from "./compare.js";
export { decodeCursor, encodeCursor, positionKey } from "./cursor.js";
export {
  QueryAstError,
  QueryCursorError,
  QueryError,
  type QueryErrorCode,
  QueryLimitError,
  QuerySyntaxError,
  type SourcePosition,
} from "./errors.js";
export { compileFilter, type DocumentFilter } from "./evaluate.js";
export { compareKeys, type EncodedKey, encodeKey, indexKey, MAX_INDEX_KEY_BYTES } from "./key.js";
export { QUERY_LIMITS } from "./limits.js";
export { literalToMix, valueAt } from "./literal.js";
export { parse } from "./parse.js";
export {
  documentIndexKey,
  fieldPath,
  type IndexRange,
  type KeyBound,
  keyBounds,
  type Plan,
  plan,
  TYPE_FIELD,
} from "./plan.js";
export { print, printExpr } from "./print.js";
export { compileProjection } from "./project.js";
export { type QueryResult, runQuery } from "./run.js";
