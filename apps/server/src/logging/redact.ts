/** Query parameters whose values never reach a log. */
const SECRET_PARAMS = /^(?:token|access_token|id_token|refresh_token|password|secret|code|key)$/i;

/** Object keys pino censors, at the top level and one level down (e.g. `headers.authorization`). */
export const REDACTED_KEYS = ["authorization", "token", "password", "cookie"];
export const REDACT_PATHS = [
  ...REDACTED_KEYS,
  ...REDACTED_KEYS.map((k) => `*.${k}`),
  ...REDACTED_KEYS.map((k) => `*.headers.${k}`),
];
export const CENSOR = "[redacted]";

/** A URL (absolute or path + query) with the values of secret query parameters censored. */
export function redactUrl(url: string): string {
  const query = url.indexOf("?");
  if (query < 0) return url;
  const fragment = url.indexOf("#", query);
  const end = fragment < 0 ? url.length : fragment;
  const params = url
    .slice(query + 1, end)
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 0) return pair;
      const name = safeDecode(pair.slice(0, eq));
      return SECRET_PARAMS.test(name) ? `${pair.slice(0, eq)}=${CENSOR}` : pair;
    });
  return `${url.slice(0, query + 1)}${params.join("&")}${url.slice(end)}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}
