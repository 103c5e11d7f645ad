import { createHash, timingSafeEqual } from "node:crypto";

/** Decides whether a request may use the admin debug routes. */
export type AdminAuthorizer = (request: Request) => boolean | Promise<boolean>;

/**
 * The default admin check until @amp/auth exists: allow only a request carrying
 * `Authorization: Bearer <credential>`, compared in constant time. With no credential
 * configured every request is denied. The lead replaces this with a root-token check.
 */
export function bearerCredentialAuthorizer(credential: string | undefined): AdminAuthorizer {
  if (!credential) return () => false;
  const expected = digest(credential);
  return (request) => {
    const header = request.headers.get("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    // Comparing digests keeps the comparison constant-time whatever the lengths.
    return match !== null && timingSafeEqual(digest(match[1]!), expected);
  };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
