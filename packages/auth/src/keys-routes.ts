import { type EdgeLogger, edgeApp, errorResponses, httpError, jsonResponse } from "@amp/http-edge";
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { authenticate } from "./middleware.js";
import type { TokenService } from "./token-service.js";
import type { AuthVariables } from "./user.js";

export interface KeysRoutesOptions {
  tokens: TokenService;
  logger?: EdgeLogger;
}

/** Most revocations one page lists. */
export const MAX_REVOCATIONS_PAGE = 1000;
const isoDate = (ms: number) => new Date(ms).toISOString();
const When = z.string().openapi({ format: "date-time" });

const SigningKeySchema = z
  .object({
    kid: z.string(),
    alg: z.string(),
    signing: z.boolean().openapi({ description: "true for the one key new tokens are signed with" }),
    createdAt: When,
    rotatesAt: When.optional().openapi({ description: "the signing key: when a new key replaces it" }),
    retiredAt: When.optional().openapi({ description: "a replaced key: when it stopped signing" }),
    verifiesUntil: When.optional().openapi({
      description: "a replaced key: until when tokens it signed still verify",
    }),
  })
  .openapi("SigningKey");

const RevocationSchema = z
  .object({
    id: z.string().openapi({ description: "the revocation's key: the paging cursor" }),
    kind: z.enum(["jti", "token_hash", "id_hash"]).openapi({
      description:
        "jti: the token's issuer and id; token_hash: a token without jti, by its SHA-256; id_hash: a long issuer and jti, hashed",
    }),
    issuer: z.string().optional(),
    jti: z.string().optional(),
    expiresAt: When.openapi({
      description: "the revoked token's expiry; the revocation is dropped after it",
    }),
    user: z.string().optional().openapi({ description: "whose token it was (its `sub`)" }),
    revokedAt: When.optional().openapi({ description: "when it was revoked" }),
    by: z.string().optional().openapi({ description: "who revoked it, when they were signed in" }),
  })
  .openapi("Revocation");

const keysRoute = createRoute({
  method: "get",
  path: "/x/auth/keys",
  summary: "The signing keys' ids, algorithms and rotation dates, never key material (root only)",
  responses: {
    200: jsonResponse(
      "the keys in the vault, the signing one first",
      z.object({ keys: z.array(SigningKeySchema) }),
    ),
    ...errorResponses(401, 403),
  },
});

const revocationsRoute = createRoute({
  method: "get",
  path: "/x/auth/revocations",
  summary: "Revoked tokens still in force, in id order, paged (root only)",
  description:
    "The token's id (or a hash), its expiry, whose it was, when and by whom it was revoked. `user`, `revokedAt` and `by` are absent when not known: revocations stored by earlier versions, a revoker not signed in.",
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(MAX_REVOCATIONS_PAGE).default(100),
      after: z.string().max(1024).optional().openapi({ description: "the last `id` of the previous page" }),
    }),
  },
  responses: {
    200: jsonResponse(
      "one page; `next` is the cursor of the following page, absent on the last",
      z.object({ revocations: z.array(RevocationSchema), next: z.string().optional() }),
    ),
    ...errorResponses(400, 401, 403),
  },
});

type KeysEnv = { Variables: Partial<AuthVariables> };

/** `/x/auth/keys` and `/x/auth/revocations`: what the token service keeps, for root to see. */
export function keysRoutes(options: KeysRoutesOptions) {
  const { tokens } = options;
  const app = edgeApp<KeysEnv>({ ...(options.logger ? { logger: options.logger } : {}), scope: "auth" });

  app.openapi(keysRoute, async (c) => {
    await requireRoot(c, tokens);
    const keys = tokens.signingKeys().map((k) => ({
      kid: k.kid,
      alg: k.alg,
      signing: k.signing,
      createdAt: isoDate(k.createdAt),
      ...(k.rotatesAt !== undefined ? { rotatesAt: isoDate(k.rotatesAt) } : {}),
      ...(k.retiredAt !== undefined ? { retiredAt: isoDate(k.retiredAt) } : {}),
      ...(k.verifiesUntil !== undefined ? { verifiesUntil: isoDate(k.verifiesUntil) } : {}),
    }));
    return c.json({ keys }, 200);
  });

  app.openapi(revocationsRoute, async (c) => {
    await requireRoot(c, tokens);
    const { limit, after } = c.req.valid("query");
    // One more than asked tells whether a next page exists.
    const page = tokens.revokedTokens(limit + 1, after);
    const shown = page.slice(0, limit);
    return c.json(
      {
        revocations: shown.map((r) => ({
          ...describeId(r.id),
          expiresAt: isoDate(r.exp * 1000),
          ...(r.user !== undefined ? { user: r.user } : {}),
          ...(r.revokedAt !== undefined ? { revokedAt: isoDate(r.revokedAt * 1000) } : {}),
          ...(r.by !== undefined ? { by: r.by } : {}),
        })),
        ...(page.length > limit ? { next: shown.at(-1)!.id } : {}),
      },
      200,
    );
  });

  return app;
}

async function requireRoot(c: Context<KeysEnv>, tokens: TokenService): Promise<void> {
  const user = c.get("user") ?? (await authenticate(c, { tokens }));
  if (user.anonymous) throw httpError("unauthenticated", "sign in as root to see this");
  if (!user.root) throw httpError("forbidden", "only root sees the signing keys and revocations");
}

/** The parts of a revocation id (`RevocationList.idOf`) that may be shown. */
function describeId(id: string): Pick<z.infer<typeof RevocationSchema>, "id" | "kind" | "issuer" | "jti"> {
  if (id.startsWith("j:")) {
    const [issuer, jti] = id.slice(2).split("\u0000", 2);
    return { id, kind: "jti", issuer: issuer ?? "", jti: jti ?? "" };
  }
  return { id, kind: id.startsWith("t:") ? "token_hash" : "id_hash" };
}
