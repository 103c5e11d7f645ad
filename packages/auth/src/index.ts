export { parseDuration } from "./duration.js";
export { AuthError, type AuthErrorCode, errorBody } from "./errors.js";
// The login plugins (OIDC, OAuth2, Apple, Snowflake, passkeys, plugin configuration).
export * from "./login/index.js";
export type { IssueOptions, LoginCodeRedeemer, LoginIdentity, TokenIssuer } from "./login-identity.js";
export {
  type AuthMiddlewareOptions,
  authErrorResponse,
  authenticate,
  authMiddleware,
  bearerToken,
  type UserVerifier,
} from "./middleware.js";
export { createOperatorToken, type OperatorTokenOptions } from "./operator-token.js";
export { CARRIED_PROFILE_CLAIMS, PROFILE_CLAIMS, withProfileClaims } from "./profile-claims.js";
export {
  MemoryRateLimitCounter,
  type RateLimitCounter,
  type RateLimitOptions,
  rateLimit,
  remoteAddress,
} from "./rate-limit.js";
export { REDACTED, redactUrl } from "./redact.js";
export type { RemoteIssuerOptions } from "./remote-issuer.js";
export { MemoryRevocationHub, type RevocationFeed } from "./revocations-feed.js";
export type { RevocationRecord } from "./revocations-record.js";
export {
  type KeyVault,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
  type SigningKeyInfo,
} from "./signing-keys.js";
export {
  AUTH_VAULT_APP,
  type TokenResponse,
  TokenService,
  type TokenServiceOptions,
  type TokenType,
  type VerifiedToken,
} from "./token-service.js";
export type { AmpUser, AuthVariables } from "./user.js";
