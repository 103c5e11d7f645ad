/** pino's level numbers and names. */
export const LOG_LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
export type LogLevelName = keyof typeof LOG_LEVELS;

const NAMES = new Map<number, LogLevelName>(
  Object.entries(LOG_LEVELS).map(([name, n]) => [n, name as LogLevelName]),
);

/** One line as the logger wrote it (JSON, after redaction), cut at `maxLineBytes`. */
export interface LogLine {
  seq: number;
  level: LogLevelName;
  line: string;
  truncated: boolean;
}

/**
 * The server's recent log lines, kept in a bounded ring for operators (`GET /x/logs`, the
 * `$amp/logs/<level>` topics). It holds what the logger wrote, so the logger's redaction (tokens,
 * secrets, URL query values) is already done.
 */
export class LogRing {
  /** Line `seq` sits at `(seq - 1) % capacity`: a fixed ring, so a write never moves the others. */
  readonly #lines: LogLine[] = [];
  readonly #listeners = new Set<(line: LogLine) => void>();
  #seq = 0;

  constructor(
    readonly capacity = 1000,
    readonly maxLineBytes = 8192,
  ) {}

  /** Takes one written line (pino's `streamWrite` hook hands it over) and returns it unchanged. */
  push(written: string): string {
    const level = NAMES.get(Number(/"level":(\d+)/.exec(written)?.[1])) ?? "info";
    const text = written.endsWith("\n") ? written.slice(0, -1) : written;
    // A UTF-16 unit is at most 3 UTF-8 bytes: most lines skip the byte count.
    const long = text.length * 3 > this.maxLineBytes && Buffer.byteLength(text) > this.maxLineBytes;
    const line: LogLine = {
      seq: ++this.#seq,
      level,
      line: long ? cutUtf8(text, this.maxLineBytes) : text,
      truncated: long,
    };
    this.#lines[(line.seq - 1) % this.capacity] = line;
    for (const listener of this.#listeners) listener(line);
    return written;
  }

  /** The last `limit` lines at `level` or above, oldest first. */
  recent(options: { level?: LogLevelName; limit?: number } = {}): LogLine[] {
    const floor = LOG_LEVELS[options.level ?? "trace"];
    const limit = options.limit ?? this.capacity;
    const oldest = Math.max(1, this.#seq - this.capacity + 1);
    const newestFirst: LogLine[] = [];
    for (let seq = this.#seq; seq >= oldest && newestFirst.length < limit; seq--) {
      const line = this.#lines[(seq - 1) % this.capacity] as LogLine;
      if (LOG_LEVELS[line.level] >= floor) newestFirst.push(line);
    }
    return newestFirst.reverse();
  }

  /** Calls `listener` with each new line; returns its removal. */
  onLine(listener: (line: LogLine) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** The longest prefix of `text` within `maxBytes` UTF-8 bytes that ends at a character boundary. */
function cutUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text);
  let end = maxBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--; // not inside a character
  return bytes.subarray(0, end).toString();
}

/** This process's log lines: every logger made with `loggerOptions` writes here too. */
export const recentLogLines = new LogRing();
