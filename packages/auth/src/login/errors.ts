import type { ContentfulStatusCode } from "hono/utils/http-status";

/** A login failure with a stable `code`; the routes answer `{error: {code, message}}` with `status`. */
export class LoginError extends Error {
  override readonly name = "LoginError";
  constructor(
    readonly code: string,
    message: string,
    readonly status: ContentfulStatusCode = 400,
  ) {
    super(message);
  }
}

/** The JSON body every login route answers an error with. */
export function errorBody(error: LoginError): { error: { code: string; message: string } } {
  return { error: { code: error.code, message: error.message } };
}
