import { SETTINGS } from "../config/settings.js";

/** The text of `amp --help`, built from the same table the parser and schema use. */
export function helpText(): string {
  const sources = Object.values(SETTINGS);
  const flagRows = sources
    .filter((s) => s.flag)
    .map((s) => [`--${s.flag}${s.value ? ` <${s.value}>` : ""}`, s.help + (s.env ? ` [${s.env}]` : "")]);
  const envRows = sources.filter((s) => s.env && !s.flag).map((s) => [s.env!, s.help]);
  return [
    "amp: the Remix platform server",
    "",
    "Usage:",
    "  amp [serve] [flags]   run the server (the default command)",
    "  amp help              show this text",
    "",
    "Flags:",
    ...table([["-h, --help", "show this text"], ...flagRows]),
    "",
    "Environment:",
    ...table(envRows),
    "",
    "Signals: SIGTERM or SIGINT drains in-flight requests for the grace period, stops every",
    "component and exits 0; a second signal exits at once.",
    "Exit status: 0 stopped cleanly, 1 failed, 2 bad configuration.",
    "",
  ].join("\n");
}

function table(rows: string[][]): string[] {
  const width = Math.max(...rows.map(([left]) => left!.length)) + 2;
  return rows.map(([left, right]) => `  ${left!.padEnd(width)}${right}`);
}
