/** Query parameters that carry credentials and must not reach a log. */
const SENSITIVE = new Set([
  "token",
  "access_token",
  "refresh_token",
  "id_token",
  "subject_token",
  "code",
  "client_secret",
  "password",
]);

/**
 * The URL (absolute, or a path with a query) with credential query values replaced by
 * "REDACTED", for request logs. Anything unparsable is cut at the query.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const hash = url.indexOf("#", q);
  const query = url.slice(q + 1, hash < 0 ? undefined : hash);
  const parts = query.split("&").map((part) => {
    const eq = part.indexOf("=");
    const rawName = eq < 0 ? part : part.slice(0, eq);
    let name: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, " ")).toLowerCase();
    } catch {
      return "REDACTED";
    }
    return SENSITIVE.has(name) && eq >= 0 ? `${rawName}=REDACTED` : part;
  });
  return `${url.slice(0, q)}?${parts.join("&")}`;
}
