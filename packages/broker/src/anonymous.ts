import type { AmpUser } from "@amp/auth";

/** The user of a client that connected without a token. */
export function anonymousUser(clientId: string): AmpUser {
  return { id: `anon-${clientId}`, anonymous: true, root: false, claims: {} };
}

/** The token in an MQTT CONNECT password: `Bearer <token>` or the bare token. */
export function tokenFromPassword(password: Buffer): string {
  const text = password.toString("utf8").trim();
  return /^bearer\s+/i.test(text) ? text.replace(/^bearer\s+/i, "") : text;
}
