import { decodeTaggedJson, encodeTaggedJson, type MixValue } from "@amp/codec";
import { BrokerError } from "./errors.js";
import { decodeHeader, encodeHeader } from "./header.js";

/** Who sent a message and which client ids it passed through (see {@link PayloadHeader}). */
interface Envelope {
  readonly type: string;
  readonly sender: string;
  readonly route: readonly string[];
  readonly replyTo?: string;
  readonly correlationId?: string;
}

/** A Remix MQTT message: the header's fields plus a body typed by its encoding. */
export type RemixMessage =
  | (Envelope & { readonly encoding: "json"; readonly body: MixValue })
  | (Envelope & { readonly encoding: "text"; readonly body: string })
  | (Envelope & { readonly encoding: "binary"; readonly body: Uint8Array });

/**
 * How json bodies become text and back. The default is `@amp/codec`'s tagged JSON, so refs,
 * tagged strings and cases survive (`{"_rmx_type":"{tag}<tag>","_rmx_value":…}`); `plainJson` is
 * for peers that speak bare JSON.
 */
export interface JsonBodyCodec {
  encode(value: MixValue): string;
  decode(text: string): MixValue;
}

export const plainJson: JsonBodyCodec = {
  encode: (value) => JSON.stringify(value),
  decode: (text) => JSON.parse(text) as MixValue,
};

export const taggedJson: JsonBodyCodec = {
  encode: (value) => encodeTaggedJson(value),
  decode: (text) => decodeTaggedJson(text),
};

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Encodes a message as one MQTT payload: header line + body. */
export function encodeMessage(message: RemixMessage, json: JsonBodyCodec = taggedJson): Buffer {
  const header = encodeHeader(message);
  let body: Uint8Array;
  switch (message.encoding) {
    case "json":
      body = Buffer.from(json.encode(message.body), "utf8");
      break;
    case "text":
      body = Buffer.from(message.body, "utf8");
      break;
    case "binary":
      body = message.body;
      break;
  }
  return Buffer.concat([header, body]);
}

/** Decodes one MQTT payload; throws `BrokerError` `BROKER_BAD_HEADER` for anything malformed. */
export function decodeMessage(payload: Uint8Array, json: JsonBodyCodec = taggedJson): RemixMessage {
  const { header, body } = decodeHeader(payload);
  const { encoding: _, ...envelope } = header;
  if (header.encoding === "binary") {
    return { ...envelope, encoding: "binary", body: Uint8Array.from(body) };
  }
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new BrokerError("BROKER_BAD_HEADER", `${header.encoding} body is not valid UTF-8`);
  }
  if (header.encoding === "text") return { ...envelope, encoding: "text", body: text };
  try {
    return { ...envelope, encoding: "json", body: json.decode(text) };
  } catch (error) {
    throw new BrokerError("BROKER_BAD_HEADER", `json body does not parse: ${(error as Error).message}`);
  }
}
