import type { MixValue } from "@amp/codec";
import type { Cell } from "@amp/machine";
import { z } from "@hono/zod-openapi";
import { errorMessage, TrackError, type TrackErrorCode } from "../errors.js";
import { clientJson } from "./values.js";

/**
 * `msg_response`, the only message the server sends, as one definition: the zod schema (the
 * OpenAPI description of the HTTP routes) and the TypeScript type (`z.infer` of it). Cell values
 * are tagged JSON. `errors` is present only when something failed, and is one object: the Remix
 * client (`rmx-runtime.js`) treats any present `errors` field as an error and reads
 * `errors.message`, exactly as the Groovebox host (`machine-wasm-core.js`) writes it.
 */
export const TrackResponseSchema = z
  .object({
    _rmx_type: z.literal("msg_response"),
    _rmx_version: z.literal("0.0"),
    session: z.string(),
    machine: z.string(),
    org: z.string(),
    workspace: z.string(),
    cellMessages: z.array(z.object({ name: z.string(), version: z.string(), value: z.unknown() })),
    logMessages: z.array(z.object({ severity: z.string(), text: z.string() })),
    warnings: z.array(z.unknown()),
    /** One error as the Remix client decodes it (`errors.message`, `errors.code`, extra fields kept). */
    errors: z.object({ code: z.string(), message: z.string() }).passthrough().optional(),
    responseTo: z.string().optional(),
    _rmx_echo: z.string().optional(),
    /** Answer data of non-view messages (session list, introspection, compile results). */
    result: z.unknown().optional(),
  })
  .openapi("TrackResponse");

export type TrackResponse = z.infer<typeof TrackResponseSchema>;

/** One error as the Remix client decodes it (`errors.message`, `errors.code`, …). */
export type ResponseError = NonNullable<TrackResponse["errors"]>;

export interface ResponseAddress {
  session: string;
  machine: string;
  org: string;
  workspace: string;
}

export function emptyResponse(address: ResponseAddress): TrackResponse {
  return {
    _rmx_type: "msg_response",
    _rmx_version: "0.0",
    ...address,
    cellMessages: [],
    logMessages: [],
    warnings: [],
  };
}

export function cellMessage(cell: Cell): TrackResponse["cellMessages"][number] {
  return { name: cell.name, version: cell.version, value: clientJson(cell.value) };
}

/**
 * An error object built by track: its `code` is one of `TrackErrorCode` (errors.ts), so a code
 * clients match on (`Track-noSession`, …) cannot drift; extra fields follow `code` and `message`.
 */
export function errorObject(
  code: TrackErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): ResponseError {
  return { code, message, ...details };
}

/** The error object of a response; unexpected errors keep their message but get a generic code. */
export function responseError(e: unknown): ResponseError {
  if (e instanceof TrackError) return { ...e.details, code: e.code, message: e.message };
  return errorObject("Track-internal", errorMessage(e));
}

/** A VM `$outputError` value, passed on as the client expects it (a map with `message`). */
export function outputErrorObject(value: MixValue): ResponseError {
  const json = clientJson(value);
  if (json !== null && typeof json === "object" && !Array.isArray(json)) {
    const o = json as Record<string, unknown>;
    return { ...o, code: typeof o.code === "string" ? o.code : "", message: String(o.message ?? "") };
  }
  return { code: "", message: typeof json === "string" ? json : JSON.stringify(json) };
}
