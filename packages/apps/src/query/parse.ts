import {
  type EqualityOp,
  type Expr,
  exprDepth,
  isInt64Text,
  type Literal,
  type Path,
  type ProjectionField,
  projectionCollision,
  type Query,
  type RangeLiteral,
  type RangeOp,
  type SortKey,
} from "./ast.js";
import { QueryLimitError } from "./errors.js";
import { describe, Lexer, type Token } from "./lexer.js";
import { QUERY_LIMITS } from "./limits.js";

const COMPARISONS = new Set(["==", "!=", "<", "<=", ">", ">="]);
const RANGES = new Set(["<", "<=", ">", ">="]);
/** Parentheses and `!` that add no AST node still use stack: allow some slack over maxDepth. */
const MAX_SYNTAX_NESTING = 2 * QUERY_LIMITS.maxDepth + 2;

/**
 * Parses the string form of a query into its AST. Throws `QuerySyntaxError`
 * (with line, column and what was expected) or `QueryLimitError`; never anything else.
 */
export function parse(source: string): Query {
  if (source.length > QUERY_LIMITS.maxLength) {
    throw new QueryLimitError(
      "maxLength",
      QUERY_LIMITS.maxLength,
      `query is ${source.length} characters long; the limit is ${QUERY_LIMITS.maxLength}`,
    );
  }
  return new Parser(source).query();
}

class Parser {
  private readonly lexer: Lexer;
  private tok: Token;

  constructor(source: string) {
    this.lexer = new Lexer(source);
    this.tok = this.lexer.next();
  }

  query(): Query {
    const q: Query = {};
    if (!this.isPunct("|") && this.tok.kind !== "eof") {
      q.filter = this.or(0);
      if (exprDepth(q.filter) > QUERY_LIMITS.maxDepth) throw depthError();
    }
    while (this.isPunct("|")) {
      this.advance();
      this.stage(q);
    }
    if (this.tok.kind !== "eof") {
      throw this.fail(
        q.filter && Object.keys(q).length === 1 ? "'&&', '||', '|' or end of query" : "'|' or end of query",
      );
    }
    return q;
  }

  // ---- filter ----

  private or(depth: number): Expr {
    const args = [this.and(depth)];
    while (this.isPunct("||")) {
      this.advance();
      args.push(this.and(depth));
    }
    return args.length === 1 ? args[0]! : { op: "or", args };
  }

  private and(depth: number): Expr {
    const args = [this.unary(depth)];
    while (this.isPunct("&&")) {
      this.advance();
      args.push(this.unary(depth));
    }
    return args.length === 1 ? args[0]! : { op: "and", args };
  }

  private unary(depth: number): Expr {
    if (depth > MAX_SYNTAX_NESTING) throw depthError();
    if (this.isPunct("!")) {
      this.advance();
      return { op: "not", arg: this.unary(depth + 1) };
    }
    if (this.isPunct("(")) {
      this.advance();
      const inner = this.or(depth + 1);
      this.expectPunct(")", "')' or '&&' or '||'");
      return inner;
    }
    return this.predicate();
  }

  private predicate(): Expr {
    const path = this.path("a field name, '!' or '('");
    const t = this.tok;
    const after = `'${printablePath(path)}'`;
    if (t.kind === "punct" && COMPARISONS.has(t.text)) {
      this.advance();
      const at = this.tok;
      const value = this.literal(`a value after '${t.text}'`, 0);
      if (!RANGES.has(t.text)) return { op: t.text as EqualityOp, path, value };
      if (!isRangeLiteral(value)) {
        throw this.lexer.error(
          `a number or string after '${t.text}' (ranges compare within one kind)`,
          describe(at),
          at.offset,
        );
      }
      return { op: t.text as RangeOp, path, value };
    }
    if (t.kind === "ident") {
      switch (t.text) {
        case "in":
          this.advance();
          return { op: "in", path, values: this.list() };
        case "contains":
          this.advance();
          return { op: "contains", path, value: this.literal("a value after 'contains'", 0) };
        case "startsWith": {
          this.advance();
          const s = this.tok;
          if (s.kind !== "string") throw this.fail("a string after 'startsWith'");
          this.advance();
          return { op: "startsWith", path, value: s.text };
        }
        case "exists":
          this.advance();
          return { op: "exists", path };
      }
    }
    throw this.fail(`an operator (== != < <= > >= in contains startsWith exists) after ${after}`);
  }

  private list(): Literal[] {
    this.expectPunct("[", "'[' after 'in'");
    const values: Literal[] = [];
    if (this.isPunct("]")) {
      this.advance();
      return values;
    }
    for (;;) {
      if (values.length === QUERY_LIMITS.maxInList) {
        throw new QueryLimitError(
          "maxInList",
          QUERY_LIMITS.maxInList,
          `an 'in' list holds at most ${QUERY_LIMITS.maxInList} values`,
        );
      }
      values.push(this.literal("a value in the list", 0));
      if (this.isPunct(",")) this.advance();
      else {
        this.expectPunct("]", "',' or ']'");
        return values;
      }
    }
  }

  private literal(expected: string, depth: number): Literal {
    const t = this.tok;
    switch (t.kind) {
      case "string":
        this.advance();
        return t.text;
      case "number": {
        const n = Number(t.text);
        if (!Number.isFinite(n)) throw this.fail("a finite number");
        this.advance();
        return n;
      }
      case "int64": {
        const text = BigInt(t.text).toString();
        if (!isInt64Text(text)) throw this.fail("an integer in the int64 range");
        this.advance();
        return { $int64: text };
      }
      case "ident":
        if (t.text === "true" || t.text === "false" || t.text === "null") {
          this.advance();
          return t.text === "null" ? null : t.text === "true";
        }
        break;
      case "punct":
        if (t.text === "{") return this.tagged();
        if (t.text === "#") return this.caseLiteral(depth);
    }
    throw this.fail(expected);
  }

  /** `{tag}"value"`, e.g. a ref `{ref}"abc"`. */
  private tagged(): Literal {
    this.advance();
    const tag = this.tok;
    if (tag.kind !== "ident") throw this.fail("a tag name after '{'");
    this.advance();
    this.expectPunct("}", "'}' after the tag name");
    const value = this.tok;
    if (value.kind !== "string") throw this.fail(`a string after '{${tag.text}}'`);
    this.advance();
    return { $tagged: tag.text, value: value.text };
  }

  /** `#Name` or `#Name(arg)`. */
  private caseLiteral(depth: number): Literal {
    if (depth >= QUERY_LIMITS.maxDepth) throw depthError();
    this.advance();
    const name = this.tok;
    if (name.kind !== "ident" || name.offset !== this.tokEndBefore)
      throw this.fail("a case name right after '#'");
    this.advance();
    if (!this.isPunct("(")) return { $case: name.text };
    this.advance();
    const arg = this.literal("a value as the case argument", depth + 1);
    this.expectPunct(")", "')' after the case argument");
    return { $case: name.text, arg };
  }

  // ---- stages after '|' ----

  private stage(q: Query): void {
    const t = this.tok;
    const once = (key: keyof Query, what: string): void => {
      if (q[key] !== undefined) throw this.lexer.error(`at most one ${what}`, describe(t), t.offset);
    };
    if (this.isPunct("{")) {
      once("project", "projection");
      q.project = this.projection();
      return;
    }
    if (t.kind === "ident") {
      switch (t.text) {
        case "sort":
          once("sort", "'sort'");
          this.advance();
          q.sort = this.sortKeys();
          return;
        case "limit":
          once("limit", "'limit'");
          this.advance();
          q.limit = this.count("limit", QUERY_LIMITS.maxLimit);
          return;
        case "offset":
          once("offset", "'offset'");
          this.advance();
          q.offset = this.count("offset", QUERY_LIMITS.maxOffset);
          return;
        case "after": {
          once("after", "'after'");
          this.advance();
          const s = this.tok;
          if (s.kind !== "string") throw this.fail("a cursor string after 'after'");
          this.advance();
          q.after = s.text;
          return;
        }
      }
    }
    throw this.fail("a projection '{', 'sort', 'limit', 'offset' or 'after' after '|'");
  }

  private projection(): ProjectionField[] {
    this.advance();
    const fields: ProjectionField[] = [];
    for (;;) {
      if (fields.length === QUERY_LIMITS.maxProjection) {
        throw new QueryLimitError(
          "maxProjection",
          QUERY_LIMITS.maxProjection,
          `a projection holds at most ${QUERY_LIMITS.maxProjection} fields`,
        );
      }
      const start = this.tok;
      const path = this.path("a field name");
      let field: ProjectionField = { path };
      if (this.isPunct(":")) {
        if (path.length !== 1) throw this.fail("',' or '}' (an output name before ':' is a single name)");
        this.advance();
        field = { path: this.path("a field path after ':'"), as: path[0]! };
      }
      fields.push(field);
      if (projectionCollision(fields) !== undefined) {
        throw this.lexer.error("a field that does not overlap an earlier one", describe(start), start.offset);
      }
      if (this.isPunct(",")) this.advance();
      else {
        this.expectPunct("}", "',' or '}'");
        return fields;
      }
    }
  }

  private sortKeys(): SortKey[] {
    const keys: SortKey[] = [];
    for (;;) {
      if (keys.length === QUERY_LIMITS.maxSortKeys) {
        throw new QueryLimitError(
          "maxSortKeys",
          QUERY_LIMITS.maxSortKeys,
          `sort takes at most ${QUERY_LIMITS.maxSortKeys} keys`,
        );
      }
      let order: SortKey["order"] = "asc";
      if (this.isPunct("-") || this.isPunct("+")) {
        order = this.tok.text === "-" ? "desc" : "asc";
        this.advance();
      }
      keys.push({ path: this.path("a field name to sort by"), order });
      if (!this.isPunct(",")) return keys;
      this.advance();
    }
  }

  private count(what: string, max: number): number {
    const t = this.tok;
    if (t.kind !== "number" || !/^(0|[1-9][0-9]*)$/.test(t.text))
      throw this.fail(`a whole number after '${what}'`);
    const n = Number(t.text);
    if (n > max)
      throw new QueryLimitError(
        `max${what[0]!.toUpperCase()}${what.slice(1)}`,
        max,
        `${what} is at most ${max}`,
      );
    this.advance();
    return n;
  }

  // ---- paths and tokens ----

  private path(expected: string): Path {
    const path: Path = [];
    for (;;) {
      const t = this.tok;
      if (t.kind !== "ident" && t.kind !== "quoted")
        throw this.fail(path.length === 0 ? expected : "a field name after '.'");
      if (path.length === QUERY_LIMITS.maxPathSegments) {
        throw new QueryLimitError(
          "maxPathSegments",
          QUERY_LIMITS.maxPathSegments,
          `a field path has at most ${QUERY_LIMITS.maxPathSegments} parts`,
        );
      }
      path.push(t.text);
      this.advance();
      if (!this.isPunct(".")) return path;
      this.advance(true);
    }
  }

  private tokEndBefore = 0;

  private advance(afterDot = false): void {
    this.tokEndBefore = this.tok.end;
    this.tok = this.lexer.next(afterDot);
  }

  private isPunct(p: string): boolean {
    return this.tok.kind === "punct" && this.tok.text === p;
  }

  private expectPunct(p: string, expected: string): void {
    if (!this.isPunct(p)) throw this.fail(expected);
    this.advance();
  }

  private fail(expected: string): Error {
    return this.lexer.error(expected, describe(this.tok), this.tok.offset);
  }
}

function depthError(): QueryLimitError {
  return new QueryLimitError(
    "maxDepth",
    QUERY_LIMITS.maxDepth,
    `query nesting is deeper than ${QUERY_LIMITS.maxDepth}`,
  );
}

function isRangeLiteral(l: Literal): l is RangeLiteral {
  return (
    typeof l === "string" || typeof l === "number" || (l !== null && typeof l === "object" && "$int64" in l)
  );
}

function printablePath(path: Path): string {
  const text = path.join(".");
  return text.length > 30 ? `${text.slice(0, 30)}…` : text;
}
