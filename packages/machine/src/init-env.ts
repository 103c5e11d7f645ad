import { type MixMap, MixToken, type MixValue } from "@amp/codec";
import { MachineError } from "./errors.js";
import type { InitEnv } from "./types.js";

/** Token operations a session token is enabled for: auth within the same org (bit 0) and tostring (bit 3). */
const SESSION_TOKEN_OPS = (1 << 0) | (1 << 3);

/**
 * The client variables the browser runtime sends. Real apps read them while
 * rendering, so a server-side session supplies neutral defaults.
 */
const CLIENT_DEFAULTS: Record<string, MixValue> = {
  width: 1024,
  height: 768,
  os: 5, // unknown
  platform: 0, // web
  surface: 0, // app
  name: "",
  given_name: "",
  family_name: "",
  picture: "",
  userAgent: "amp",
  timezone: "UTC",
  locale: "en-US",
};

const REQUIRED = ["org", "workspace", "app", "user", "token", "baseURL"] as const;

/** Builds the value `initEnvExtract` takes: `{standalone, isMQTTEnabled, session, env}`. */
export function initEnvValue(env: InitEnv): MixMap {
  if (env === null || typeof env !== "object")
    throw new MachineError("bad_options", "init env must be an object");
  for (const key of REQUIRED) {
    if (typeof env[key] !== "string")
      throw new MachineError("bad_options", `init env: ${key} must be a string`);
  }
  const inner: MixMap = {
    actionPrefix: env.actionPrefix ?? "ap",
    app: env.app,
    baseURL: env.baseURL,
    org: env.org,
    workspace: env.workspace,
    user: env.user,
    token: new MixToken(SESSION_TOKEN_OPS, new TextEncoder().encode(env.token), {}),
    isAgent: env.isAgent ?? false,
    isBuilder: env.isBuilder ?? false,
    userIsVerified: env.userIsVerified ?? false,
  };
  for (const [k, v] of Object.entries({ ...CLIENT_DEFAULTS, ...env.client })) inner[`client_${k}`] = v;
  const standalone = env.standalone ?? false;
  return {
    standalone,
    isMQTTEnabled: standalone ? false : (env.isMQTTEnabled ?? false),
    session: env.session ?? "",
    env: inner,
  };
}
