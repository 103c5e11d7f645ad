import { REDACTED } from "@amp/auth";

/** Object keys pino censors, at the top level and one level down (e.g. `headers.authorization`). */
export const REDACTED_KEYS = ["authorization", "token", "password", "cookie"];
export const REDACT_PATHS = [
  ...REDACTED_KEYS,
  ...REDACTED_KEYS.map((k) => `*.${k}`),
  ...REDACTED_KEYS.map((k) => `*.headers.${k}`),
];
/** The same word as `@amp/auth`'s `redactUrl` writes, so every redaction reads alike. */
export const CENSOR = REDACTED;
