import { BrokerError, decodeHeader, encodeHeader, type PayloadHeader } from "@amp/broker";
import { TrackError } from "../errors.js";
import type { TrackResponse } from "../protocol/response.js";

/** One track message read from an MQTT payload: its header and its JSON body (an object). */
export interface InboundMessage {
  header: PayloadHeader;
  /** The message type: the body's `_rmx_type`, or the header's when the body has none. */
  type: string;
  body: Record<string, unknown>;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a Remix MQTT payload carrying one track message, as Remix's hub worker publishes it:
 * `_rmx_type=<t>,_rmx_encoding=json,_rmx_sender=<s>,_rmx_route=<ids>\n{…json…}`.
 * Throws `TrackError` (`Track-tooLarge`, `Track-badMessage`) for anything else; never anything else.
 */
export function parseTrackPayload(payload: Uint8Array, maxBytes: number): InboundMessage {
  if (payload.length > maxBytes) {
    throw new TrackError("Track-tooLarge", `MQTT track messages are at most ${maxBytes} bytes`);
  }
  let header: PayloadHeader;
  let bytes: Uint8Array;
  try {
    ({ header, body: bytes } = decodeHeader(payload));
  } catch (e) {
    if (e instanceof BrokerError)
      throw new TrackError("Track-badMessage", `bad payload header: ${e.message}`);
    throw e;
  }
  if (header.encoding !== "json") {
    throw new TrackError("Track-badMessage", `track messages are _rmx_encoding=json, not ${header.encoding}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(utf8.decode(bytes));
  } catch {
    throw new TrackError("Track-badMessage", "the body is not JSON text", { headerType: clip(header.type) });
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new TrackError("Track-badMessage", "the body must be a JSON object");
  }
  const record = body as Record<string, unknown>;
  const bodyType = record._rmx_type;
  if (bodyType !== undefined && typeof bodyType !== "string") {
    throw new TrackError("Track-badMessage", "_rmx_type must be a string");
  }
  if (bodyType !== undefined && header.type !== "" && bodyType !== header.type) {
    throw new TrackError(
      "Track-badMessage",
      `the header's _rmx_type ${clip(header.type)} differs from the body's ${clip(bodyType)}`,
    );
  }
  return { header, type: bodyType ?? header.type, body: record };
}

/** Encodes a `msg_response` for an `…/output` topic, with the header line the hub worker reads. */
export class ResponseEncoder {
  readonly #header: Uint8Array;

  constructor(sender: string) {
    // The route names only us: a receiver drops a message whose route holds its own client id,
    // so the requester's id must never be carried over into its answer.
    this.#header = encodeHeader({ type: "msg_response", encoding: "json", sender, route: [sender] });
  }

  encode(response: TrackResponse): Buffer {
    const body = Buffer.from(JSON.stringify(response), "utf8");
    const out = Buffer.allocUnsafe(this.#header.length + body.length);
    out.set(this.#header, 0);
    out.set(body, this.#header.length);
    return out;
  }
}

/** A field of untrusted input, short enough for a log line or an error message. */
export function clip(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
