import { HttpError } from "@amp/http-edge";
/** Stable codes for every way a query can be refused. */
export type QueryErrorCode = "query_syntax" | "query_invalid_ast" | "query_limit" | "query_cursor";

/** Base class of every query error; `code` is stable, `message` is for people. */
export class QueryError extends HttpError {
  declare readonly code: QueryErrorCode;
  constructor(code: QueryErrorCode, message: string) {
    super(400, code, message);
  }
}

/** Where in the query string something went wrong: 1-based line and column, 0-based offset. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
  readonly offset: number;
}

/** The string form did not parse; says where and what was expected there. */
export class QuerySyntaxError extends QueryError implements SourcePosition {
  readonly line: number;
  readonly column: number;
  readonly offset: number;

  constructor(
    /** What the parser wanted, e.g. "a value after '=='". */
    readonly expected: string,
    /** What it found instead, e.g. "end of query" or "'|'". */
    readonly found: string,
    position: SourcePosition,
  ) {
    super(
      "query_syntax",
      `expected ${expected} at line ${position.line}, column ${position.column} (found ${found})`,
    );
    this.line = position.line;
    this.column = position.column;
    this.offset = position.offset;
  }
}

/** The JSON AST failed validation; `issues` lists each problem with its JSON path. */
export class QueryAstError extends QueryError {
  constructor(readonly issues: readonly { path: string; message: string }[]) {
    super(
      "query_invalid_ast",
      `invalid query AST: ${issues
        .slice(0, 3)
        .map((i) => `${i.path || "(root)"}: ${i.message}`)
        .join("; ")}`,
    );
  }
}

/** A query exceeded one of the `QUERY_LIMITS` (length, depth, list size, ...). */
export class QueryLimitError extends QueryError {
  constructor(
    readonly limit: string,
    readonly max: number,
    message: string,
  ) {
    super("query_limit", message);
  }
}

/** A paging cursor was malformed or was made for a different sort. */
export class QueryCursorError extends QueryError {
  constructor(message: string) {
    super("query_cursor", message);
  }
}
