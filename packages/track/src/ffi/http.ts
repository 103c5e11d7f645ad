import { encodeTaggedJson, isBinary, isMixArray, isMixMap, type MixMap, type MixValue } from "@amp/codec";
import type { FfiHandler } from "@amp/machine";
import type { OutboundHttp } from "../outbound/http-client.js";
import { mapArg } from "./args.js";

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)|[^;]*\+(json|xml))/i;

/**
 * `$http_do({method, url, headers?, body?, mediaTypes?})` and `$http_do_server` (the same on a
 * server): answered `{status, headers, requested_url, body}`; the body is a string for textual
 * media types and binary otherwise. Denied hosts, timeouts and oversize answers abort the call.
 */
export function httpFfis(outbound: OutboundHttp): Record<string, FfiHandler> {
  const handler: FfiHandler = async (args, ctx) => {
    const req = mapArg(args, 0, ctx.name, "request");
    if (typeof req.url !== "string") throw new Error(`${ctx.name}: url must be a string`);
    const headers = stringMap(req.headers);
    if (isMixArray(req.mediaTypes) && headers.accept === undefined) {
      const accept = req.mediaTypes.filter((t): t is string => typeof t === "string");
      if (accept.length > 0) headers.accept = accept.join(", ");
    }
    const res = await outbound.request({
      method: typeof req.method === "string" ? req.method : "GET",
      url: req.url,
      headers,
      body: requestBody(req.body, headers),
    });
    const type = res.headers["content-type"] ?? "";
    const body: MixValue =
      type === "" || TEXT_TYPES.test(type) ? new TextDecoder().decode(res.body) : res.body;
    return { status: res.status, headers: res.headers, requested_url: req.url, body } satisfies MixMap;
  };
  // `$http_do_client` is the reference host's name for its own `$http_do`: on a server, the same request.
  return { $http_do: handler, $http_do_server: handler, $http_do_client: handler };
}

function stringMap(v: MixValue): Record<string, string> {
  const out: Record<string, string> = {};
  if (isMixMap(v))
    for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k.toLowerCase()] = x;
  return out;
}

function requestBody(body: MixValue, headers: Record<string, string>): Uint8Array | string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string" || isBinary(body)) return body;
  headers["content-type"] ??= "application/json";
  return encodeTaggedJson(body);
}
