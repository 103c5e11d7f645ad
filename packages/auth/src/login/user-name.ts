import type { LoginIdentity } from "../login-identity.js";
import { CARRIED_PROFILE_CLAIMS } from "../profile-claims.js";
import type { PluginConfig } from "./config/schema.js";
import { LoginError } from "./errors.js";

/** Provider claims worth carrying into an amp token; everything else stays behind. */
const CARRIED_CLAIMS = [...CARRIED_PROFILE_CLAIMS, "email_verified", "preferred_username"] as const;

const DEFAULT_USER_CLAIM: Record<PluginConfig["kind"], string> = {
  oidc: "sub",
  oauth2: "sub",
  apple: "sub",
  snowflake: "username",
};

/**
 * Turns a provider's claims into the amp identity. A user-owned (public) plugin
 * cannot name arbitrary users: its names always carry the `<id>:` prefix, so
 * nobody can configure a provider that logs them in as root.
 */
export function identityFromClaims(config: PluginConfig, claims: Record<string, unknown>): LoginIdentity {
  const claimName = config.userClaim ?? DEFAULT_USER_CLAIM[config.kind];
  const value = claims[claimName];
  if ((typeof value !== "string" && typeof value !== "number") || String(value).length === 0) {
    throw new LoginError("user_claim_missing", `the provider's answer has no "${claimName}" claim`);
  }
  const name = String(value);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (name.length > 256 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new LoginError(
      "user_claim_invalid",
      `the provider's "${claimName}" claim is not a usable user name`,
    );
  }
  const prefix = config.visibility === "public" ? `${config.id}:` : (config.userPrefix ?? "");
  const carried: Record<string, unknown> = { amr: [config.kind], idp_sub: name };
  for (const claim of CARRIED_CLAIMS) {
    const v = claims[claim];
    if (typeof v === "string" ? v.length <= 256 : typeof v === "boolean") carried[claim] = v;
  }
  return { user: `${prefix}${name}`, claims: carried, plugin: config.id };
}
