import { useEffect, useRef, useState } from "preact/hooks";
import { LOGS_TOPICS } from "../api/broker.js";
import { api, ok } from "../api/client.js";
import type { components } from "../api/schema.js";
import { useMe } from "../auth/me.js";
import { useLiveList } from "../ui/live-list.js";
import { Notice } from "../ui/notice.js";

type LogLine = components["schemas"]["LogLine"];
type Level = LogLine["level"];

const LEVELS: readonly Level[] = ["trace", "debug", "info", "warn", "error", "fatal"];
/** Lines kept on the page (the server keeps as many). */
const KEPT = 1000;

const atLeast = (line: LogLine, level: Level) => LEVELS.indexOf(line.level) >= LEVELS.indexOf(level);

function applyLine(list: LogLine[], line: LogLine, level: Level): LogLine[] {
  if (!atLeast(line, level) || list.some((l) => l.seq >= line.seq)) return list;
  return [...list, line].slice(-KEPT);
}

/** A line's time and message first; its other fields (already redacted by the server) after. */
function Line({ line }: { line: LogLine }) {
  let fields: Record<string, unknown> = {};
  try {
    fields = JSON.parse(line.line) as Record<string, unknown>;
  } catch {
    // cut at 8 KiB: no longer JSON, shown as it is
  }
  const { time, message, level: _n, severity: _s, pid: _p, hostname: _h, ...rest } = fields;
  return (
    <li>
      <p>
        <time>{typeof time === "string" ? new Date(time).toLocaleTimeString() : ""}</time>{" "}
        <code class="chip">{line.level}</code> {typeof message === "string" ? message : ""}
        {line.truncated ? <span class="hint"> (cut at 8 KiB)</span> : null}
      </p>
      <pre>{Object.keys(fields).length > 0 ? JSON.stringify(rest) : line.line}</pre>
    </li>
  );
}

/**
 * The server's recent log lines (root only: `GET /x/logs`, the lines as logged, so with the
 * logger's redaction of tokens and secrets), new ones live from `$amp/logs/<level>`; newest first,
 * filtered by level.
 */
export function LogsView() {
  const me = useMe();
  const [floor, setFloor] = useState<Level>("info");
  const logs = useLiveList<LogLine, LogLine>({
    user: me.id,
    filter: me.root ? LOGS_TOPICS : undefined,
    load: () =>
      ok(api.GET("/x/logs", { params: { query: { level: floor, limit: KEPT } } })).then((a) => a.lines),
    apply: (list, line) => applyLine(list, line, floor),
  });
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else void logs.refresh();
  }, [floor]);
  const lines = logs.items;

  return (
    <section>
      <h1>Logs</h1>
      <p class="hint">
        This node's last {KEPT} log lines, redacted as logged;{" "}
        {logs.live ? <span role="status">live: new lines show as they are written</span> : "not live"}.
      </p>
      <div class="toolbar">
        <label for="log-level">Level</label>
        <select id="log-level" value={floor} onChange={(e) => setFloor(e.currentTarget.value as Level)}>
          {LEVELS.map((l) => (
            <option key={l} value={l}>
              {l} and above
            </option>
          ))}
        </select>
        <button type="button" onClick={logs.refresh}>
          Refresh
        </button>
      </div>
      <Notice error={logs.error} />
      {lines === undefined ? null : lines.length === 0 ? (
        <p>No lines at this level.</p>
      ) : (
        <ol class="messages" aria-label="Log lines">
          {[...lines].reverse().map((line) => (
            <Line key={line.seq} line={line} />
          ))}
        </ol>
      )}
    </section>
  );
}
