import {
  bodyLimit,
  type EdgeLogger,
  edgeApp,
  errorResponse,
  errorResponses,
  httpError,
  jsonResponse,
  type ValidationResult,
  validationError,
} from "@amp/http-edge";
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { AuthError } from "./errors.js";
import { keysRoutes } from "./keys-routes.js";
import type { LoginCodeRedeemer } from "./login-identity.js";
import { authenticate, bearerToken } from "./middleware.js";
import { type RateLimitOptions, rateLimit } from "./rate-limit.js";
import type { TokenService } from "./token-service.js";
import type { AuthVariables } from "./user.js";

export { type KeysRoutesOptions, keysRoutes, MAX_REVOCATIONS_PAGE } from "./keys-routes.js";
/** The login plugins' routes (`/x/auth/*`, `/x/pubkey/*`, `/x/authConfig`), mounted beside `authRoutes`. */
export { type LoginRoutesOptions, loginRoutes } from "./login/index.js";

export interface AuthRoutesOptions {
  tokens: TokenService;
  /** The login plugins' code store; without it the authorization_code grant is refused. */
  loginCodes?: LoginCodeRedeemer;
  /** Limit on `/x/token` and `/x/token/revoke` per client. Default 30 a minute. */
  rateLimit?: RateLimitOptions;
  /** Whether `/x/profile` accepts `?token=`. Default true, as the middleware. */
  allowQueryToken?: boolean;
  /** Where a failure (5xx) of a route is logged, with its cause. */
  logger?: EdgeLogger;
}

export const GRANT_RENEW = "urn:amp:params:grant-type:renew";
export const GRANT_TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const MAX_BODY_BYTES = 32 * 1024;
const Token = z.string().min(1).max(8192);

const TokenRequest = z
  .discriminatedUnion("grant_type", [
    z.object({
      grant_type: z.literal("authorization_code"),
      code: z.string().min(1).max(512),
      redirect_uri: z.string().max(2048).optional(),
    }),
    z.object({ grant_type: z.literal("refresh_token"), refresh_token: Token }),
    z.object({
      grant_type: z.literal(GRANT_TOKEN_EXCHANGE),
      subject_token: Token,
      subject_token_type: z.enum([
        "urn:ietf:params:oauth:token-type:jwt",
        "urn:ietf:params:oauth:token-type:access_token",
      ]),
    }),
    z.object({
      grant_type: z.literal(GRANT_RENEW),
      /** The token to renew; defaults to the request's bearer token. */
      token: Token.optional(),
    }),
  ])
  .openapi("TokenRequest");

const TokenResponseSchema = z
  .object({
    access_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number(),
    refresh_token: z.string().optional(),
    issued_token_type: z.string().optional(),
  })
  .openapi("TokenResponse");

const RevokeRequest = z
  .object({ token: Token, token_type_hint: z.enum(["access_token", "refresh_token"]).optional() })
  .openapi("RevokeRequest");

const ProfileSchema = z
  .object({
    id: z.string(),
    anonymous: z.boolean(),
    root: z.boolean(),
    roles: z.array(z.string()),
    claims: z.record(z.string(), z.unknown()),
  })
  .openapi("Profile");

const jwksRoute = createRoute({
  method: "get",
  path: "/x/jwks.json",
  summary: "The public keys amp tokens are signed with",
  responses: {
    200: {
      description: "JSON Web Key Set",
      content: {
        "application/json": { schema: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }) },
      },
    },
  },
});

const tokenRoute = createRoute({
  method: "post",
  path: "/x/token",
  summary: "Exchange a login code, refresh token or trusted external token for an amp token, or renew one",
  middleware: [bodyLimit(MAX_BODY_BYTES)] as const,
  request: {
    body: {
      content: {
        "application/x-www-form-urlencoded": { schema: TokenRequest },
        "application/json": { schema: TokenRequest },
      },
    },
  },
  responses: {
    200: jsonResponse("the new token", TokenResponseSchema),
    400: errorResponse("bad_request, invalid_grant or unsupported_grant_type"),
    401: errorResponse("the token to renew, refresh or exchange is refused (token_*)"),
    ...errorResponses(413, 415, 429),
  },
});

const revokeRoute = createRoute({
  method: "post",
  path: "/x/token/revoke",
  summary: "Revoke an access or refresh token until it expires (RFC 7009)",
  middleware: [bodyLimit(MAX_BODY_BYTES)] as const,
  request: {
    body: {
      content: {
        "application/x-www-form-urlencoded": { schema: RevokeRequest },
        "application/json": { schema: RevokeRequest },
      },
    },
  },
  responses: {
    200: jsonResponse("revoked, or not a valid token", z.object({})),
    ...errorResponses(400, 413, 415, 429),
  },
});

const profileRoute = createRoute({
  method: "get",
  path: "/x/profile",
  summary: "The current user",
  responses: {
    200: jsonResponse("the acting user", ProfileSchema),
    401: errorResponse("invalid token (token_*)"),
  },
});

type AuthEnv = { Variables: Partial<AuthVariables> };

/**
 * `/x/jwks.json`, `/x/token`, `/x/token/revoke` and `/x/profile`. Mount with
 * `app.route("/", authRoutes({tokens, loginCodes}))`.
 */
export function authRoutes(options: AuthRoutesOptions) {
  const { tokens } = options;
  const app = edgeApp<AuthEnv>({ ...(options.logger ? { logger: options.logger } : {}), scope: "auth" });
  // Only our own paths: middleware of a mounted sub-app applies to every matching route of the server.
  const limited = rateLimit(options.rateLimit);
  for (const path of ["/x/token", "/x/token/revoke"]) app.use(path, limited);

  app.route("/", keysRoutes({ tokens, ...(options.logger ? { logger: options.logger } : {}) }));
  app.openapi(jwksRoute, (c) => {
    c.header("Cache-Control", "public, max-age=300");
    return c.json(tokens.jwks() as { keys: Record<string, unknown>[] }, 200);
  });

  app.openapi(
    tokenRoute,
    async (c) => {
      const body = validBody(
        c,
        () => c.req.valid("json"),
        () => c.req.valid("form"),
      );
      switch (body.grant_type) {
        case "authorization_code": {
          const identity = await options.loginCodes?.redeem(body.code);
          if (!identity)
            throw new AuthError("invalid_grant", "authorization code is unknown, used or expired", 400);
          return c.json(await tokens.issueSession(identity), 200);
        }
        case "refresh_token":
          return c.json(await tokens.refresh(body.refresh_token), 200);
        case GRANT_TOKEN_EXCHANGE:
          return c.json(await tokens.exchange(body.subject_token), 200);
        case GRANT_RENEW: {
          const token = body.token ?? bearerToken(c, false);
          if (!token) throw httpError("bad_request", "renew needs the token (field or bearer)");
          return c.json(await tokens.renew(token), 200);
        }
      }
    },
    tokenHook,
  );

  app.openapi(revokeRoute, async (c) => {
    const { token } = validBody(
      c,
      () => c.req.valid("json"),
      () => c.req.valid("form"),
    );
    // Who revoked it, when the caller signed in (the middleware set the user); RFC 7009 needs no sign-in.
    const by = c.get("user");
    await tokens.revoke(token, by && !by.anonymous ? by.id : undefined);
    return c.json({}, 200);
  });

  app.openapi(profileRoute, async (c) => {
    const user =
      c.get("user") ?? (await authenticate(c, { tokens, allowQueryToken: options.allowQueryToken ?? true }));
    return c.json(
      {
        id: user.id,
        anonymous: user.anonymous,
        root: user.root,
        roles: [...(user.roles ?? [])],
        claims: { ...user.claims },
      },
      200,
    );
  });

  return app;
}

/** The body validated under whichever declared media type the request used. */
function validBody<T>(c: Context, json: () => T, form: () => T): T {
  const type = c.req.header("content-type") ?? "";
  if (/^application\/json/i.test(type)) return json();
  if (/^application\/x-www-form-urlencoded/i.test(type)) return form();
  throw httpError("unsupported_media_type", "send the body as JSON or application/x-www-form-urlencoded");
}

/** The edge's validation, except that an unknown `grant_type` is OAuth's `unsupported_grant_type`. */
function tokenHook(result: ValidationResult): undefined {
  const error = validationError(result);
  if (!error) return undefined;
  const issue = result.error?.issues[0];
  if (issue?.path.length === 1 && issue.path[0] === "grant_type")
    throw new AuthError("unsupported_grant_type", error.message, 400);
  throw error;
}
