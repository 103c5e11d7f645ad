import { type ErrorBody, errorBody as edgeErrorBody, HttpError } from "@amp/http-edge";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** A login failure with a stable `code`; the routes answer `{error: {code, message}}` with `status`. */
export class LoginError extends HttpError {
  constructor(code: string, message: string, status: ContentfulStatusCode = 400) {
    super(status, code, message);
  }
}

/** The JSON body of a login error (the HTTP edge's envelope). */
export function errorBody(error: LoginError): ErrorBody {
  return edgeErrorBody(error.code, error.message);
}
