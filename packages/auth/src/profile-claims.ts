/**
 * The profile claims Remix's web runtime reads from a token before it sends anything
 * (it decodes the payload itself and renders nothing when one is missing): `email`
 * (its user name), `name`, `given_name`, `family_name`, and `picture` when known.
 */
export const PROFILE_CLAIMS = ["email", "name", "given_name", "family_name"] as const;
const MAX_PROFILE_CHARS = 256;
const MAX_PICTURE_CHARS = 2048;

/** Claims a login carries from the identity provider into an amp token. */
export const CARRIED_PROFILE_CLAIMS = [...PROFILE_CLAIMS, "picture"] as const;

/**
 * `claims` with every profile claim present as a string: the identity's value where it
 * is a usable string, "" otherwise. `picture` stays only when it is a usable string.
 */
export function withProfileClaims(claims: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...claims };
  for (const name of PROFILE_CLAIMS) {
    const value = claims[name];
    out[name] = typeof value === "string" && value.length <= MAX_PROFILE_CHARS ? value : "";
  }
  const picture = claims.picture;
  if (typeof picture !== "string" || picture.length === 0 || picture.length > MAX_PICTURE_CHARS)
    delete out.picture;
  return out;
}
