/** Query parameters that carry credentials and must not reach a log (compared case-insensitively). */
const SENSITIVE = new Set([
  "token",
  "access_token",
  "refresh_token",
  "id_token",
  "subject_token",
  "code",
  "client_secret",
  "secret",
  "password",
  "key",
]);

/** What a redacted value reads as in logs. */
export const REDACTED = "[redacted]";

/**
 * The URL (absolute, or a path with a query) with credential query values replaced by
 * `[redacted]`, for request logs. A parameter whose name cannot be decoded is redacted whole.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const hash = url.indexOf("#", q);
  const end = hash < 0 ? url.length : hash;
  const parts = url
    .slice(q + 1, end)
    .split("&")
    .map((part) => {
      const eq = part.indexOf("=");
      const rawName = eq < 0 ? part : part.slice(0, eq);
      let name: string;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, " ")).toLowerCase();
      } catch {
        return REDACTED;
      }
      return SENSITIVE.has(name) && eq >= 0 ? `${rawName}=${REDACTED}` : part;
    });
  return `${url.slice(0, q + 1)}${parts.join("&")}${url.slice(end)}`;
}
