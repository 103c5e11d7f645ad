import { createPublicKey, type KeyObject, verify } from "node:crypto";
import type { JWK, JWTPayload } from "jose";
import { AuthError } from "./errors.js";

/**
 * Our own tokens are verified here with `node:crypto` KeyObjects: a synchronous Ed25519/P-256
 * check costs about half of jose's path through WebCrypto (see `bench/verify.bench.ts`). The
 * checks are jose's `jwtVerify` ones, with the same error codes; remote issuers keep jose.
 */

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A compact JWS split into its parts; the header is parsed, the payload only on demand. */
export interface CompactJws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly headerPart: string;
  readonly payloadPart: string;
  readonly signaturePart: string;
}

/** Splits and parses the header of a compact JWS; throws `token_invalid` ("not a JWT") when it is not one. */
export function splitJws(token: string): CompactJws {
  const first = token.indexOf(".");
  const second = first < 0 ? -1 : token.indexOf(".", first + 1);
  if (second < 0 || token.indexOf(".", second + 1) >= 0) throw notJwt();
  const headerPart = token.slice(0, first);
  const payloadPart = token.slice(first + 1, second);
  const signaturePart = token.slice(second + 1);
  if (!BASE64URL.test(headerPart) || !BASE64URL.test(payloadPart) || !BASE64URL.test(signaturePart)) {
    throw notJwt();
  }
  const header = jsonObject(headerPart);
  if (!header) throw notJwt();
  return { header, headerPart, payloadPart, signaturePart };
}

/** The payload of a split JWS, unverified (for routing by `iss`); throws `token_invalid` when it is not a JSON object. */
export function unverifiedPayload(jws: CompactJws): JWTPayload {
  const payload = jsonObject(jws.payloadPart);
  if (!payload) throw notJwt();
  return payload as JWTPayload;
}

/** A verification key as `node:crypto` wants it. */
export function publicKeyObject(jwk: JWK): KeyObject {
  return createPublicKey({ key: jwk as never, format: "jwk" });
}

/** Whether the signature over `header.payload` verifies with `key` (`EdDSA`: Ed25519, `ES256`: P-256 raw r‖s). */
export function signatureVerifies(jws: CompactJws, alg: "EdDSA" | "ES256", key: KeyObject): boolean {
  const data = Buffer.from(`${jws.headerPart}.${jws.payloadPart}`, "latin1");
  const signature = Buffer.from(jws.signaturePart, "base64url");
  try {
    return alg === "EdDSA"
      ? signature.length === 64 && verify(null, data, key, signature)
      : signature.length === 64 && verify("sha256", data, { key, dsaEncoding: "ieee-p1363" }, signature);
  } catch {
    return false;
  }
}

export interface ClaimRules {
  issuer: string;
  audience: string;
  /** The header `typ` required (`at+jwt`, `rt+jwt`). */
  typ: string;
  requiredClaims: readonly string[];
  clockSkewSeconds: number;
  /** Now, in seconds since the epoch. */
  now: number;
}

/**
 * The claims of a verified JWS, checked as jose's `jwtVerify` does (typ, required claims, iss, aud,
 * iat/nbf/exp types, nbf and exp with the skew). Throws `AuthError` with the codes the service uses.
 */
export function verifiedClaims(jws: CompactJws, rules: ClaimRules): JWTPayload {
  const payload = jsonObject(jws.payloadPart);
  if (!payload) throw new AuthError("token_invalid", "token is malformed or not accepted");
  const typ = jws.header.typ;
  if (typeof typ !== "string" || normalizeTyp(typ) !== normalizeTyp(rules.typ)) throw unaccepted("typ");
  for (const claim of [...rules.requiredClaims, "aud", "iss"]) {
    if (!Object.hasOwn(payload, claim)) throw unaccepted(claim);
  }
  if (payload.iss !== rules.issuer) throw unaccepted("iss");
  const aud = payload.aud;
  if (!(aud === rules.audience || (Array.isArray(aud) && aud.includes(rules.audience)))) {
    throw unaccepted("aud");
  }
  const iat = payload.iat;
  if (iat !== undefined && typeof iat !== "number") throw unaccepted("iat");
  const nbf = payload.nbf;
  if (nbf !== undefined && typeof nbf !== "number") throw unaccepted("nbf");
  if (nbf !== undefined && nbf > rules.now + rules.clockSkewSeconds) throw unaccepted("nbf");
  const exp = payload.exp;
  if (exp !== undefined && typeof exp !== "number") throw unaccepted("exp");
  if (exp !== undefined && exp <= rules.now - rules.clockSkewSeconds) {
    throw new AuthError("token_expired", "token has expired");
  }
  return payload as JWTPayload;
}

function jsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(utf8.decode(Buffer.from(part, "base64url")));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** As jose (RFC 7515 §4.1.9): case-insensitive, `application/` implied. */
function normalizeTyp(value: string): string {
  const lower = value.toLowerCase();
  return lower.includes("/") ? lower : `application/${lower}`;
}

function unaccepted(claim: string): AuthError {
  if (claim === "nbf" || claim === "iat")
    return new AuthError("token_not_yet_valid", "token is not yet valid");
  return new AuthError("token_invalid", `token claim "${claim}" is not accepted`);
}

function notJwt(): AuthError {
  return new AuthError("token_invalid", "token is not a JWT");
}
