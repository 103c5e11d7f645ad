import { type Expr, IDENTIFIER, type Literal, type Path, type ProjectionField, type Query } from "./ast.js";

/**
 * Prints an AST in the canonical string form. `parse(print(q))` equals `q`, and
 * `print(parse(s))` is a fixed point. Clauses print in a fixed order:
 * filter | projection | sort | after | offset | limit.
 */
export function print(q: Query): string {
  const stages: string[] = [];
  if (q.project) stages.push(`{ ${q.project.map(printField).join(", ")} }`);
  if (q.sort)
    stages.push(`sort ${q.sort.map((k) => (k.order === "desc" ? "-" : "") + printPath(k.path)).join(", ")}`);
  if (q.after !== undefined) stages.push(`after ${quote(q.after, '"')}`);
  if (q.offset !== undefined) stages.push(`offset ${q.offset}`);
  if (q.limit !== undefined) stages.push(`limit ${q.limit}`);
  const filter = q.filter ? printExpr(q.filter) : "";
  if (stages.length === 0) return filter;
  return filter ? `${filter} | ${stages.join(" | ")}` : `| ${stages.join(" | ")}`;
}

/** Prints a filter expression on its own. */
export function printExpr(e: Expr): string {
  switch (e.op) {
    case "or":
      // A nested `or` keeps its parentheses so the AST's grouping survives a round trip.
      return e.args.map((a) => (a.op === "or" ? `(${printExpr(a)})` : printExpr(a))).join(" || ");
    case "and":
      return e.args
        .map((a) => (a.op === "or" || a.op === "and" ? `(${printExpr(a)})` : printExpr(a)))
        .join(" && ");
    case "not":
      return `!(${printExpr(e.arg)})`;
    case "in":
      return `${printPath(e.path)} in [${e.values.map(printLiteral).join(", ")}]`;
    case "exists":
      return `${printPath(e.path)} exists`;
    case "startsWith":
      return `${printPath(e.path)} startsWith ${quote(e.value, '"')}`;
    default:
      return `${printPath(e.path)} ${e.op} ${printLiteral(e.value)}`;
  }
}

export function printLiteral(l: Literal): string {
  if (l === null) return "null";
  switch (typeof l) {
    case "string":
      return quote(l, '"');
    case "number":
      return Object.is(l, -0) ? "-0" : String(l);
    case "boolean":
      return String(l);
  }
  if ("$int64" in l) return `${l.$int64}n`;
  if ("$tagged" in l) return `{${l.$tagged}}${quote(l.value, '"')}`;
  return l.arg === undefined ? `#${l.$case}` : `#${l.$case}(${printLiteral(l.arg)})`;
}

const SEGMENT = /^[A-Za-z0-9_$]+$/;

/** A dotted path; a part that is not a plain name is written in backticks. */
export function printPath(path: Path): string {
  return path
    .map((seg, i) => (IDENTIFIER.test(seg) || (i > 0 && SEGMENT.test(seg)) ? seg : quote(seg, "`")))
    .join(".");
}

function printField(f: ProjectionField): string {
  return f.as === undefined ? printPath(f.path) : `${printPath([f.as])}: ${printPath(f.path)}`;
}

const NAMED_ESCAPES: Record<string, string> = {
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\\": "\\\\",
};

/** Quotes with `"` or a backtick, escaping like JSON. */
export function quote(s: string, q: '"' | "`"): string {
  let out = q;
  for (const c of s) {
    if (c === q) out += `\\${q}`;
    else if (Object.hasOwn(NAMED_ESCAPES, c)) out += NAMED_ESCAPES[c];
    else if (c < " " || c === "\u007f") out += `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    else out += c;
  }
  return out + q;
}
