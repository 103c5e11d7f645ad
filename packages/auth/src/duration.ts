const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const DURATION = /^(?:\d{1,10}(?:\.\d{1,6})?(?:ms|s|m|h|d|w))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/**
 * Parses a duration the way the Go server's flags did ("250ms", "90s", "5m", "1h30m"), plus
 * days and weeks ("7d", "2w"), or a plain number of seconds ("300"). Returns milliseconds, or
 * undefined when the text is not a duration. `RMX_SESSION_TIMEOUT`, `amp token --ttl` and the
 * server's duration flags all read durations through this one parser.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d{1,10}(?:\.\d{1,6})?$/.test(trimmed)) return Number(trimmed) * 1_000;
  if (!DURATION.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART)) total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}
