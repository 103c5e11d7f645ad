import { importPKCS8, SignJWT } from "jose";

export const APPLE_ISSUER = "https://appleid.apple.com";

/**
 * Sign in with Apple has no static client secret: each token request carries an
 * ES256 JWT signed with the team's key (`iss` team id, `sub` client id, `aud` Apple).
 * Ours live five minutes, long enough for one code exchange.
 */
export async function appleClientSecret(options: {
  teamId: string;
  keyId: string;
  clientId: string;
  /** The team's private key, PKCS#8 PEM as Apple hands it out (`AuthKey_<keyId>.p8`). */
  privateKeyPem: string;
  now?: () => number;
}): Promise<string> {
  const key = await importPKCS8(options.privateKeyPem, "ES256");
  const issuedAt = Math.floor((options.now ?? Date.now)() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: "ES256", kid: options.keyId })
    .setIssuer(options.teamId)
    .setSubject(options.clientId)
    .setAudience(APPLE_ISSUER)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + 300)
    .sign(key);
}
