import { jsonBody, jsonResponse } from "@amp/http-edge";
import { createRoute, z } from "@hono/zod-openapi";
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from "@simplewebauthn/server";
import type { Logger } from "pino";
import { LoginError } from "../errors.js";
import type { LoginCodeStore } from "../login-codes.js";
import type { PasskeyService } from "../passkey/passkey-service.js";
import { actingUser, errorResponses, loginApp, loginBodyLimit } from "./context.js";

export interface PasskeyRouteDeps {
  passkeys: PasskeyService;
  codes: LoginCodeStore;
  logger: Logger;
}

const b64url = z
  .string()
  .regex(/^[A-Za-z0-9_-]*$/)
  .max(16_384);

/** A WebAuthn credential as `@simplewebauthn/browser` serializes it. */
const credentialFields = {
  id: b64url.min(1).max(1024),
  rawId: b64url.min(1).max(1024),
  type: z.literal("public-key"),
  clientExtensionResults: z.looseObject({}),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
};

const RegistrationResponseSchema = z
  .object({
    ...credentialFields,
    response: z.looseObject({
      clientDataJSON: b64url,
      attestationObject: b64url,
      transports: z.array(z.string().max(32)).max(8).optional(),
    }),
  })
  .openapi("PasskeyRegistrationResponse");

const AuthenticationResponseSchema = z
  .object({
    ...credentialFields,
    response: z.looseObject({
      clientDataJSON: b64url,
      authenticatorData: b64url,
      signature: b64url,
      userHandle: b64url.optional(),
    }),
  })
  .openapi("PasskeyAuthenticationResponse");

const UserBody = z.object({ user: z.string().max(64).optional() });
const ok = <T extends z.ZodType>(description: string, schema: T) => ({
  200: jsonResponse(description, schema),
});
const OptionsSchema = z.looseObject({ challenge: z.string() });

const registerOptionsRoute = createRoute({
  method: "post",
  path: "/x/pubkey/register/options",
  summary: "Passkey registration options: for the logged-in user, or a new user name when allowed",
  middleware: loginBodyLimit,
  request: { body: jsonBody(UserBody) },
  responses: {
    ...ok("PublicKeyCredentialCreationOptionsJSON", OptionsSchema),
    ...errorResponses(400, 401, 409, 429, 413, 415),
  },
});

const registerVerifyRoute = createRoute({
  method: "post",
  path: "/x/pubkey/register/verify",
  summary: "Verify and store a new passkey",
  middleware: loginBodyLimit,
  request: { body: jsonBody(z.object({ response: RegistrationResponseSchema })) },
  responses: {
    ...ok("the registered passkey", z.object({ user: z.string(), credentialId: z.string() })),
    ...errorResponses(400, 409, 429, 413, 415),
  },
});

const challengeRoute = createRoute({
  method: "post",
  path: "/x/pubkey/challenge",
  summary: "A single-use, short-lived login challenge (options for navigator.credentials.get)",
  middleware: loginBodyLimit,
  request: { body: jsonBody(UserBody) },
  responses: {
    ...ok("PublicKeyCredentialRequestOptionsJSON", OptionsSchema),
    ...errorResponses(400, 429, 413, 415),
  },
});

const authenticateRoute = createRoute({
  method: "post",
  path: "/x/pubkey/authenticate",
  summary: "Log in with a passkey assertion; answers an amp authorization code for /x/token",
  middleware: loginBodyLimit,
  request: { body: jsonBody(z.object({ response: AuthenticationResponseSchema })) },
  responses: {
    ...ok("an amp authorization code", z.object({ code: z.string(), user: z.string() })),
    ...errorResponses(400, 429, 413, 415),
  },
});

/** WebAuthn passkey registration and login under `/x/pubkey`. */
export function passkeyRoutes(deps: PasskeyRouteDeps) {
  const app = loginApp(deps.logger);

  app.openapi(registerOptionsRoute, async (c) => {
    const user = actingUser(c);
    const newUser = c.req.valid("json").user;
    const options = await deps.passkeys.registrationOptions(user.anonymous ? undefined : user.id, newUser);
    return c.json(options, 200);
  });

  app.openapi(registerVerifyRoute, async (c) => {
    const { response } = c.req.valid("json");
    const registered = await deps.passkeys.verifyRegistration(
      response as unknown as RegistrationResponseJSON,
    );
    deps.logger.info({ user: registered.user }, "passkey registered");
    return c.json(registered, 200);
  });

  app.openapi(challengeRoute, async (c) => {
    return c.json(await deps.passkeys.authenticationOptions(c.req.valid("json").user), 200);
  });

  app.openapi(authenticateRoute, async (c) => {
    const { response } = c.req.valid("json");
    try {
      const identity = await deps.passkeys.authenticate(response as unknown as AuthenticationResponseJSON);
      deps.logger.info({ user: identity.user }, "passkey login succeeded");
      return c.json({ code: await deps.codes.issue(identity), user: identity.user }, 200);
    } catch (error) {
      if (error instanceof LoginError) deps.logger.warn({ code: error.code }, "passkey login failed");
      throw error;
    }
  });

  return app;
}
