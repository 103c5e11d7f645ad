/**
 * A query's syntax error at its place: the line of the query it names, with a caret under the
 * column, and the API's message.
 */
export function QueryError(props: { query: string; line: number; column: number; message: string }) {
  const text = props.query.split("\n")[props.line - 1] ?? "";
  return (
    <div class="query-error" role="alert">
      <p>
        <strong>
          Line {props.line}, column {props.column}:
        </strong>{" "}
        {props.message}
      </p>
      <pre aria-hidden="true">{`${text}\n${" ".repeat(Math.max(0, props.column - 1))}^`}</pre>
    </div>
  );
}

/** The offset in `text` of a 1-based line and column (to put the editor's cursor there). */
export function offsetOf(text: string, line: number, column: number): number {
  const lines = text.split("\n").slice(0, line - 1);
  return Math.min(text.length, lines.reduce((sum, l) => sum + l.length + 1, 0) + column - 1);
}
