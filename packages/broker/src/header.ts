import { BrokerError } from "./errors.js";

/**
 * The one-line header every Remix MQTT payload starts with:
 * `_rmx_type=<t>,_rmx_encoding=json|text|binary,_rmx_sender=<id>,_rmx_route=<id>;<id>\n` + body.
 * The route lists the client ids a message has passed through, so a receiver drops its own echoes.
 */
export type PayloadEncoding = "json" | "text" | "binary";

export interface PayloadHeader {
  readonly type: string;
  readonly encoding: PayloadEncoding;
  readonly sender: string;
  /** Client ids the message went through (`;`-separated on the wire). */
  readonly route: readonly string[];
  /** Requests only: where the answer goes (`_rmx_reply_to`), and the id it must carry (`_rmx_correlation`). */
  readonly replyTo?: string;
  readonly correlationId?: string;
}

/** The longest header line accepted; anything longer is not a Remix payload. */
export const MAX_HEADER_BYTES = 4096;

const LF = 0x0a;
const ENCODINGS: ReadonlySet<string> = new Set(["json", "text", "binary"]);
/** Characters that would break the `k=v,k=v;…` line. */
const FORBIDDEN = /[,=;\n\r]/;

function checkField(name: string, value: string): void {
  if (FORBIDDEN.test(value)) {
    throw new BrokerError("BROKER_BAD_HEADER", `header field ${name} must not contain , = ; or a line break`);
  }
}

/** Encodes the header line (with its trailing LF) as bytes. */
export function encodeHeader(header: PayloadHeader): Uint8Array {
  checkField("_rmx_type", header.type);
  checkField("_rmx_sender", header.sender);
  if (!ENCODINGS.has(header.encoding)) {
    throw new BrokerError("BROKER_BAD_HEADER", `unknown _rmx_encoding ${JSON.stringify(header.encoding)}`);
  }
  for (const hop of header.route) {
    checkField("_rmx_route", hop);
    if (hop === "") throw new BrokerError("BROKER_BAD_HEADER", "empty client id in _rmx_route");
  }
  let line =
    `_rmx_type=${header.type},_rmx_encoding=${header.encoding},` +
    `_rmx_sender=${header.sender},_rmx_route=${header.route.join(";")}`;
  if (header.replyTo !== undefined) {
    checkField("_rmx_reply_to", header.replyTo);
    line += `,_rmx_reply_to=${header.replyTo}`;
  }
  if (header.correlationId !== undefined) {
    checkField("_rmx_correlation", header.correlationId);
    line += `,_rmx_correlation=${header.correlationId}`;
  }
  line += "\n";
  const bytes = Buffer.from(line, "utf8");
  if (bytes.length > MAX_HEADER_BYTES) {
    throw new BrokerError("BROKER_BAD_HEADER", `header longer than ${MAX_HEADER_BYTES} bytes`);
  }
  return bytes;
}

/** Splits a payload into its header and the body bytes (a view, not a copy). */
export function decodeHeader(payload: Uint8Array): { header: PayloadHeader; body: Uint8Array } {
  const limit = Math.min(payload.length, MAX_HEADER_BYTES);
  let lf = -1;
  for (let i = 0; i < limit; i++) {
    if (payload[i] === LF) {
      lf = i;
      break;
    }
  }
  if (lf < 0) throw new BrokerError("BROKER_BAD_HEADER", "payload has no header line");
  const line = Buffer.from(payload.buffer, payload.byteOffset, lf).toString("utf8");
  const fields = new Map<string, string>();
  for (const part of line.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new BrokerError("BROKER_BAD_HEADER", `malformed header field ${JSON.stringify(part)}`);
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const encoding = fields.get("_rmx_encoding");
  if (encoding === undefined || !ENCODINGS.has(encoding)) {
    throw new BrokerError(
      "BROKER_BAD_HEADER",
      `missing or unknown _rmx_encoding ${JSON.stringify(encoding)}`,
    );
  }
  const type = fields.get("_rmx_type");
  if (type === undefined) throw new BrokerError("BROKER_BAD_HEADER", "missing _rmx_type");
  const route = fields.get("_rmx_route");
  return {
    header: {
      type,
      encoding: encoding as PayloadEncoding,
      sender: fields.get("_rmx_sender") ?? "",
      route: route ? route.split(";").filter((hop) => hop !== "") : [],
      ...(fields.has("_rmx_reply_to") ? { replyTo: fields.get("_rmx_reply_to") } : {}),
      ...(fields.has("_rmx_correlation") ? { correlationId: fields.get("_rmx_correlation") } : {}),
    },
    body: payload.subarray(lf + 1),
  };
}
