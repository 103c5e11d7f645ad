import { z } from "@hono/zod-openapi";

/** Ids whose `/x/auth/{handler}` would be one of amp's own routes (`keys-routes.ts`). */
export const RESERVED_PLUGIN_IDS: readonly string[] = ["keys", "revocations"];

/** A plugin configuration id, which is also its handler name in `/x/auth/{handler}`. */
export const PluginIdSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, "lowercase letters, digits and '-', starting with a letter, at most 32")
  .refine(
    (id) => !RESERVED_PLUGIN_IDS.includes(id),
    "reserved: amp serves /x/auth/keys and /x/auth/revocations",
  )
  .openapi({ example: "oidc" });

const UrlSchema = z.url({ protocol: /^https?$/ }).max(2048);
const ScopeSchema = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/, "an OAuth scope token");
const SecretValueSchema = z.string().min(1).max(8192);

/** Fields every plugin kind shares. */
const commonFields = {
  /** `confidential` plugins (with a client secret) are admin-managed; `public` ones (PKCE only) may be user-owned. */
  visibility: z.enum(["confidential", "public"]),
  clientId: z.string().min(1).max(512),
  scopes: z.array(ScopeSchema).max(32).optional(),
  /** Where a finished login may send the browser (with `?code=`); exact matches only. */
  returnUrls: z.array(UrlSchema).min(1).max(16),
  /** The provider claim that becomes the amp user name. */
  userClaim: z.string().min(1).max(64).optional(),
  /** Prepended to the user name. Honoured for confidential plugins; public ones always get `<id>:`. */
  userPrefix: z.string().max(64).optional(),
  displayName: z.string().max(128).optional(),
};

const secretField = { clientSecret: SecretValueSchema.optional() };

const OidcFields = z.object({
  kind: z.literal("oidc"),
  issuer: UrlSchema,
  ...commonFields,
});
const OAuth2Fields = z.object({
  kind: z.literal("oauth2"),
  authorizationEndpoint: UrlSchema,
  tokenEndpoint: UrlSchema,
  userinfoEndpoint: UrlSchema,
  tokenAuthMethod: z.enum(["client_secret_basic", "client_secret_post"]).optional(),
  ...commonFields,
});
const AppleFields = z.object({
  kind: z.literal("apple"),
  /** Apple's issuer; only a local stand-in in tests overrides it. */
  issuer: UrlSchema.optional(),
  teamId: z.string().regex(/^[A-Z0-9]{10}$/, "a 10-character Apple team id"),
  keyId: z.string().regex(/^[A-Z0-9]{10}$/, "a 10-character Apple key id"),
  ...commonFields,
});
const SnowflakeFields = z.object({
  kind: z.literal("snowflake"),
  /** e.g. `https://myorg-myaccount.snowflakecomputing.com` */
  accountUrl: UrlSchema,
  /** Requested as the `session:role:<role>` scope. */
  role: z
    .string()
    .regex(/^[A-Za-z0-9_$]{1,255}$/)
    .optional(),
  ...commonFields,
});

/** What an admin or user sends to create or replace a plugin configuration. */
export const PluginConfigInputSchema = z
  .discriminatedUnion("kind", [
    OidcFields.extend(secretField),
    OAuth2Fields.extend(secretField),
    /** Apple's client secret is a JWT signed with the team's ES256 key (PKCS#8 PEM). */
    AppleFields.extend({ privateKey: SecretValueSchema.optional() }),
    SnowflakeFields.extend(secretField),
  ])
  .superRefine((config, ctx) => {
    if (config.visibility === "public" && config.kind === "apple") {
      ctx.addIssue({
        code: "custom",
        path: ["visibility"],
        message: "Sign in with Apple needs a confidential plugin",
      });
    }
    if (config.visibility === "public" && "clientSecret" in config && config.clientSecret !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["clientSecret"],
        message: "public plugins have no client secret",
      });
    }
  })
  .openapi("PluginConfigInput");
export type PluginConfigInput = z.infer<typeof PluginConfigInputSchema>;

/** A stored configuration: the input without its secrets, plus bookkeeping. */
export const PluginConfigSchema = z
  .discriminatedUnion("kind", [OidcFields, OAuth2Fields, AppleFields, SnowflakeFields])
  .and(
    z.object({
      id: PluginIdSchema,
      owner: z.string(),
      /** True when a client secret (or Apple key) is stored; the value is never returned. */
      hasSecret: z.boolean(),
      createdAt: z.string(),
      updatedAt: z.string(),
    }),
  )
  .openapi("PluginConfig");
export type PluginConfig = z.infer<typeof PluginConfigSchema>;
