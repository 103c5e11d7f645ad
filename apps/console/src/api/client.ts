import createClient from "openapi-fetch";
import { currentToken, tokenRefused } from "../auth/credentials.js";
import { ApiError } from "./errors.js";
import type { paths } from "./schema.js";

/**
 * The typed client of the server's API: paths, parameters, bodies and answers come from
 * `schema.d.ts`, generated from /x/openapi.json. Every call carries the signed-in user's token;
 * a 401 to that token sends the person to sign in again (see `tokenRefused`).
 */
export const api = createClient<paths>({ baseUrl: location.origin });

api.use({
  onRequest({ request }) {
    const token = currentToken();
    if (token && !request.headers.has("authorization"))
      request.headers.set("authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    const token = currentToken();
    if (response.status === 401 && token && request.headers.get("authorization") === `Bearer ${token}`)
      tokenRefused();
    return response;
  },
});

/** The answer's data, or its error as an `ApiError`. */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw ApiError.from(response.status, error);
  return data as T;
}

/** Headers for calls the typed client does not make (uploads with progress, downloads). */
export function authorization(): Record<string, string> {
  const token = currentToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}
