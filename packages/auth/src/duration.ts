const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * Parses a duration for `RMX_SESSION_TIMEOUT` and `amp token --ttl`: plain seconds
 * ("3600") or a sum of number-unit parts ("90m", "1h30m", "7d"). Returns whole seconds.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d{1,10}$/.test(trimmed)) return positive(Number(trimmed), text);
  if (!/^(\d{1,10}[smhdw])+$/.test(trimmed)) {
    throw new RangeError(
      `not a duration: ${JSON.stringify(text.slice(0, 40))} (use e.g. 3600, 90m, 12h, 7d)`,
    );
  }
  let seconds = 0;
  for (const [, n, unit] of trimmed.matchAll(/(\d+)([smhdw])/g)) seconds += Number(n) * UNITS[unit!]!;
  return positive(seconds, text);
}

function positive(seconds: number, text: string): number {
  if (seconds <= 0 || !Number.isSafeInteger(seconds)) {
    throw new RangeError(`duration must be positive: ${JSON.stringify(text.slice(0, 40))}`);
  }
  return seconds;
}
