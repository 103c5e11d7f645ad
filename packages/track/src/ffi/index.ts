import { type FfiHandler, FfiRegistry } from "@amp/machine";
import { OutboundHttp, type OutboundOptions } from "../outbound/http-client.js";
import type { TrackApps, TrackMqtt, TrackSecrets, TrackTokens } from "../ports.js";
import type { SessionLookup } from "./args.js";
import { dbFfis } from "./db.js";
import { httpFfis } from "./http.js";
import { loaderFfis } from "./loader.js";
import { cryptoFfis, secretFfis, tokenFfis, UNSUPPORTED_FFIS, unsupportedFfis, vmFfis } from "./misc.js";
import { mqttFfis } from "./mqtt.js";

export interface TrackFfiOptions {
  /** Outbound HTTP rules for `$http_do` (or a shared client). Default: public hosts only. */
  outbound?: OutboundOptions | OutboundHttp;
  mqtt?: TrackMqtt;
  secrets?: TrackSecrets;
  tokens?: TrackTokens;
  /** Values `get_env(name)` may read; nothing else from the process environment is visible. */
  env?: Readonly<Record<string, string>>;
  /** Extra or overriding handlers (e.g. app-specific FFIs of an embedding service). */
  extra?: Readonly<Record<string, FfiHandler>>;
  /** FFIs registered as unsupported (abort naming the FFI). Default `$binary_compress`, `$binary_decompress`. */
  unsupported?: readonly string[];
}

/** The FFI table of every session: each handler acts with the calling session's user. */
export function trackFfis(apps: TrackApps, find: SessionLookup, options: TrackFfiOptions = {}): FfiRegistry {
  const outbound =
    options.outbound instanceof OutboundHttp ? options.outbound : new OutboundHttp(options.outbound);
  return new FfiRegistry()
    .registerAll(unsupportedFfis(options.unsupported ?? UNSUPPORTED_FFIS))
    .registerAll(vmFfis(options.env ?? {}, find))
    .registerAll(httpFfis(outbound))
    .registerAll(dbFfis(apps, find))
    .registerAll(mqttFfis(options.mqtt, find))
    .registerAll(loaderFfis(apps, find))
    .registerAll(cryptoFfis())
    .registerAll(secretFfis(options.secrets, find))
    .registerAll(tokenFfis(options.tokens, find))
    .registerAll(options.extra ?? {});
}
