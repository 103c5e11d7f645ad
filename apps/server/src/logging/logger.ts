import { createRequire } from "node:module";
import { redactUrl } from "@amp/auth";
import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";
import { recentLogLines } from "./recent-lines.js";
import { CENSOR, REDACT_PATHS } from "./redact.js";

/** pino's levels as Google Cloud Logging severities. */
const SEVERITY: Record<string, string> = {
  trace: "DEBUG",
  debug: "DEBUG",
  info: "INFO",
  warn: "WARNING",
  error: "ERROR",
  fatal: "CRITICAL",
};

export interface LoggerSettings {
  level?: string;
  /** Human-readable output; by default when stdout is a terminal. */
  pretty?: boolean;
  /** Where JSON lines go (default stdout). */
  destination?: DestinationStream;
}

/**
 * The pino options every amp logger uses: GCP severity, `message` key, secrets censored, and each
 * written line (redacted) kept in `recentLogLines` for operators.
 */
export function loggerOptions(level = "info"): LoggerOptions {
  return {
    level,
    messageKey: "message",
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label, number) => ({ severity: SEVERITY[label] ?? "DEFAULT", level: number }),
    },
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    serializers: { url: (url: unknown) => (typeof url === "string" ? redactUrl(url) : url) },
    hooks: { streamWrite: (line) => recentLogLines.push(line) },
  };
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const options = loggerOptions(settings.level);
  if (settings.destination) return pino(options, settings.destination);
  if (settings.pretty ?? process.stdout.isTTY === true) {
    // Only a terminal needs pino-pretty; a server logging JSON never loads it.
    const pretty = createRequire(import.meta.url)("pino-pretty") as typeof import("pino-pretty");
    return pino(options, pretty({ messageKey: "message", ignore: "pid,hostname,severity", sync: true }));
  }
  return pino(options);
}
