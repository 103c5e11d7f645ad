import { HttpError } from "@amp/http-edge";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Stable codes for every way a track operation can fail. The two session-loss codes use the
 * names Remix clients recognise: `Track-noSession` ("no such session") and `Track-sessionTimedOut`
 * ("session timed out"); the client matches on the message text, so the messages are fixed too.
 */
export type TrackErrorCode =
  | "Track-noSession"
  | "Track-sessionTimedOut"
  | "Track-executionTimedOut"
  | "Track-badMessage"
  | "Track-unknownMessage"
  | "Track-forbidden"
  | "Track-noApp"
  | "Track-noExecutable"
  | "Track-noWebhook"
  | "Track-conflict"
  | "Track-tooManySessions"
  | "Track-panic"
  | "Track-machine"
  | "Track-compilerUnavailable"
  | "Track-compile"
  | "Track-unsupported"
  | "Track-tooLarge"
  | "Track-binaryFrame"
  | "Track-outboundDenied"
  | "Track-outboundFailed"
  | "Track-busy"
  | "Track-relayTimeout"
  | "Track-internal";

const STATUS: Record<TrackErrorCode, ContentfulStatusCode> = {
  "Track-noSession": 404,
  "Track-sessionTimedOut": 410,
  "Track-executionTimedOut": 504,
  "Track-badMessage": 400,
  "Track-unknownMessage": 400,
  "Track-forbidden": 403,
  "Track-noApp": 404,
  "Track-noExecutable": 404,
  "Track-noWebhook": 404,
  "Track-conflict": 409,
  "Track-tooManySessions": 429,
  "Track-panic": 500,
  "Track-machine": 500,
  "Track-compilerUnavailable": 503,
  "Track-compile": 502,
  "Track-unsupported": 501,
  "Track-tooLarge": 413,
  "Track-binaryFrame": 415,
  "Track-outboundDenied": 403,
  "Track-outboundFailed": 502,
  "Track-busy": 429,
  "Track-relayTimeout": 504,
  "Track-internal": 500,
};

/** Messages the Remix client matches on (`rmx-runtime.js` decodes `errors.message`). */
export const NO_SUCH_SESSION = "no such session";
export const SESSION_TIMED_OUT = "session timed out";
export const EXECUTION_TIMED_OUT = "execution timed out";
export const NO_EXECUTABLE = "there is no executable in the db";

/** A track failure: inside a `msg_response` its `code` and message; over HTTP the edge answers its `status`. */
export class TrackError extends HttpError {
  declare readonly code: TrackErrorCode;
  constructor(
    code: TrackErrorCode,
    message: string,
    /** Extra fields carried into the error object of a `msg_response`. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(STATUS[code], code, message);
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
