import { QuerySyntaxError, type SourcePosition } from "./errors.js";

export type TokenKind =
  | "ident" // name or keyword
  | "quoted" // `odd key`
  | "string"
  | "number"
  | "int64"
  | "punct"
  | "eof";

export interface Token {
  readonly kind: TokenKind;
  /** The decoded text: punctuation itself, a name, a string's value, a number's digits. */
  readonly text: string;
  readonly offset: number;
  readonly end: number;
}

const PUNCTUATION = [
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "<",
  ">",
  "!",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  ":",
  "|",
  ".",
  "-",
  "+",
  "#",
];
const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?(n?)/y;
const IDENT = /[A-Za-z_$][A-Za-z0-9_$]*/y;
/** After a `.` a path segment may also start with a digit (`items.0`). */
const SEGMENT = /[A-Za-z0-9_$]+/y;

/** Describes a token for error messages: `'=='`, `end of query`, `string "ab"`. */
export function describe(t: Token): string {
  switch (t.kind) {
    case "eof":
      return "end of query";
    case "string":
      return `string ${JSON.stringify(t.text.length > 20 ? `${t.text.slice(0, 20)}…` : t.text)}`;
    case "punct":
      return `'${t.text}'`;
    default:
      return `'${t.text.length > 20 ? `${t.text.slice(0, 20)}…` : t.text}'`;
  }
}

/** Splits a query string into tokens, one at a time, on the parser's demand. */
export class Lexer {
  private pos = 0;
  private lineStarts: number[] | undefined;

  constructor(readonly source: string) {}

  /** Line and column (1-based) of an offset. */
  position(offset: number): SourcePosition {
    if (!this.lineStarts) {
      this.lineStarts = [0];
      for (let i = 0; i < this.source.length; i++) if (this.source[i] === "\n") this.lineStarts.push(i + 1);
    }
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo]! + 1, offset };
  }

  error(expected: string, found: string, offset: number): QuerySyntaxError {
    return new QuerySyntaxError(expected, found, this.position(offset));
  }

  /** The next token; `afterDot` lexes a path segment, which may start with a digit. */
  next(afterDot = false): Token {
    const s = this.source;
    while (this.pos < s.length && /\s/.test(s[this.pos]!)) this.pos++;
    const start = this.pos;
    if (start >= s.length) return { kind: "eof", text: "", offset: start, end: start };
    const c = s[start]!;
    if (afterDot) {
      const seg = this.match(SEGMENT);
      if (seg !== undefined) return { kind: "ident", text: seg, offset: start, end: this.pos };
    }
    if (c === '"' || c === "'") return this.quoted("string", c);
    if (c === "`") return this.quoted("quoted", c);
    if ((c >= "0" && c <= "9") || (c === "-" && /[0-9]/.test(s[start + 1] ?? ""))) {
      NUMBER.lastIndex = start;
      const m = NUMBER.exec(s)!;
      this.pos = NUMBER.lastIndex;
      if (/[A-Za-z0-9_$.]/.test(s[this.pos] ?? ""))
        throw this.error("a number", `'${s.slice(start, this.pos + 1)}'`, start);
      const isInt64 = m[4] === "n";
      if (isInt64 && (m[2] || m[3])) throw this.error("an integer before 'n'", `'${m[0]}'`, start);
      return {
        kind: isInt64 ? "int64" : "number",
        text: isInt64 ? m[0].slice(0, -1) : m[0],
        offset: start,
        end: this.pos,
      };
    }
    const ident = this.match(IDENT);
    if (ident !== undefined) return { kind: "ident", text: ident, offset: start, end: this.pos };
    for (const p of PUNCTUATION) {
      if (s.startsWith(p, start)) {
        this.pos += p.length;
        return { kind: "punct", text: p, offset: start, end: this.pos };
      }
    }
    if (c === "=" || c === "&") throw this.error(`'${c}${c}'`, `'${c}'`, start);
    throw this.error("a field, value or operator", `'${String.fromCodePoint(s.codePointAt(start)!)}'`, start);
  }

  private match(re: RegExp): string | undefined {
    re.lastIndex = this.pos;
    const m = re.exec(this.source);
    if (!m) return undefined;
    this.pos = re.lastIndex;
    return m[0];
  }

  /** A string or a backtick-quoted key, with JSON escapes. */
  private quoted(kind: "string" | "quoted", quote: string): Token {
    const s = this.source;
    const start = this.pos;
    let i = start + 1;
    let out = "";
    for (;;) {
      const stop = indexOfAny(s, quote, i);
      out += s.slice(i, stop);
      i = stop;
      if (i >= s.length) throw this.error(`a closing ${quote}`, "end of query", start);
      const c = s[i]!;
      if (c === quote) break;
      if (c === "\n") throw this.error(`a closing ${quote}`, "end of line", i);
      // a backslash
      const e = s[i + 1];
      const simple = e === undefined ? undefined : ESCAPES[e];
      if (simple !== undefined) {
        out += simple;
        i += 2;
      } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
        out += String.fromCharCode(Number.parseInt(s.slice(i + 2, i + 6), 16));
        i += 6;
      } else
        throw this.error(
          "an escape (\\\" \\' \\` \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
          `'\\${e ?? ""}'`,
          i,
        );
    }
    this.pos = i + 1;
    return { kind, text: out, offset: start, end: this.pos };
  }
}

const ESCAPES: Record<string, string> = {
  '"': '"',
  "'": "'",
  "`": "`",
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/** Index of the next quote, backslash or newline at or after `from`. */
function indexOfAny(s: string, quote: string, from: number): number {
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === quote || c === "\\" || c === "\n") return i;
  }
  return s.length;
}
