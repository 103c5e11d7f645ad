import { type FfiHandler, FfiRegistry, MACHINE_FFIS } from "@amp/machine";
import { OutboundHttp, type OutboundOptions } from "../outbound/http-client.js";
import type { TrackApps, TrackMqtt, TrackSecrets, TrackTokens } from "../ports.js";
import type { SessionLookup } from "./args.js";
import { dbFfis } from "./db.js";
import { extraFfis } from "./extra.js";
import { httpFfis } from "./http.js";
import { loaderFfis } from "./loader.js";
import {
  aesFfis,
  cryptoFfis,
  secretFfis,
  tokenFfis,
  UNSUPPORTED_FFIS,
  unsupportedFfis,
  vmFfis,
} from "./misc.js";
import { mqttFfis } from "./mqtt.js";
import { REFUSED_FFIS } from "./refused.js";
import { resourceFfis } from "./resources.js";
import { scopedFfis } from "./scoped.js";
import { sleepFfis } from "./sleep.js";
import { type WasmLimits, wasmFfis } from "./wasm.js";
import { type WebSocketLimits, websocketFfis } from "./websocket.js";

export interface TrackFfiOptions {
  /** Outbound HTTP rules for `$http_do` and `$websocket_create` (or a shared client). Default: public hosts only. */
  outbound?: OutboundOptions | OutboundHttp;
  mqtt?: TrackMqtt;
  secrets?: TrackSecrets;
  tokens?: TrackTokens;
  /** Values `get_env(name)` may read; nothing else from the process environment is visible. */
  env?: Readonly<Record<string, string>>;
  /** Extra or overriding handlers (e.g. app-specific FFIs of an embedding service). */
  extra?: Readonly<Record<string, FfiHandler>>;
  /** FFIs registered as unsupported (abort naming the FFI). Default: the names of `REFUSED_FFIS`. */
  unsupported?: readonly string[];
  /** `$websocket_*` limits per session. */
  websocket?: Partial<WebSocketLimits>;
  /** `$wasm_*` limits per session. */
  wasm?: Partial<WasmLimits>;
}

/** The FFI table of every session: each handler acts with the calling session's user. */
export function trackFfis(apps: TrackApps, find: SessionLookup, options: TrackFfiOptions = {}): FfiRegistry {
  const outbound =
    options.outbound instanceof OutboundHttp ? options.outbound : new OutboundHttp(options.outbound);
  const unsupported = options.unsupported ?? UNSUPPORTED_FFIS;
  const table = new FfiRegistry()
    .registerAll(unsupportedFfis(unsupported))
    .registerAll(vmFfis(options.env ?? {}, find))
    .registerAll(httpFfis(outbound))
    .registerAll(dbFfis(apps, find))
    .registerAll(mqttFfis(options.mqtt, find))
    .registerAll(loaderFfis(apps, find))
    .registerAll(resourceFfis(apps, find))
    .registerAll(cryptoFfis())
    .registerAll(aesFfis())
    .registerAll(secretFfis(options.secrets, find))
    .registerAll(tokenFfis(options.tokens, find))
    .registerAll(scopedFfis(sleepFfis, find).handlers)
    .registerAll(scopedFfis(websocketFfis(outbound, options.websocket), find).handlers)
    .registerAll(scopedFfis(wasmFfis(options.wasm), find).handlers);
  table.registerAll(extraFfis(table, new Set(unsupported)));
  return table.registerAll(options.extra ?? {});
}

/** Which FFI names a track server answers, for reports such as the `.remix` import's. */
export interface TrackFfiCatalog {
  /** Names answered with a result: the FFI table's and the machine's own. */
  readonly answered: readonly string[];
  /** Names amp refuses by design (their calls abort), with the reason. */
  readonly refused: Readonly<Record<string, string>>;
}

/** The catalog of the table `trackFfis(…, options)` builds (no session or store is touched). */
export function trackFfiCatalog(
  options: Pick<TrackFfiOptions, "extra" | "unsupported"> = {},
): TrackFfiCatalog {
  const unsupported = new Set(options.unsupported ?? UNSUPPORTED_FFIS);
  const noApps = {} as TrackApps;
  const table = trackFfis(noApps, () => undefined, { extra: options.extra, unsupported: [...unsupported] });
  const answered = [...new Set([...table.names(), ...MACHINE_FFIS])]
    .filter((n) => !unsupported.has(n) || Object.hasOwn(options.extra ?? {}, n))
    .sort();
  const refused: Record<string, string> = {};
  for (const name of unsupported) {
    if (Object.hasOwn(options.extra ?? {}, name)) continue;
    refused[name] =
      (REFUSED_FFIS as Record<string, { reason: string }>)[name]?.reason ??
      "configured as unsupported on this server";
  }
  return { answered, refused };
}
