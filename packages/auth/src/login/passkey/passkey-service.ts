import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import type { LoginIdentity } from "../../login-identity.js";
import { LoginError } from "../errors.js";
import {
  MemorySingleUseStore,
  type SingleUseStore,
  type SingleUseStoreFactory,
} from "../single-use-store.js";
import type { PasskeyCredentialStore } from "./credential-store.js";

// @simplewebauthn/server loads ~200 modules (its ASN.1 and X.509 stack): loaded on the first
// passkey request rather than at start-up, which it would slow by a third.
type WebAuthn = typeof import("@simplewebauthn/server");
let webauthnModule: Promise<WebAuthn> | undefined;
const webauthn = () => {
  webauthnModule ??= import("@simplewebauthn/server");
  return webauthnModule;
};

export interface PasskeyOptions {
  /** The WebAuthn relying party id: the site's registrable domain, e.g. `example.com`. */
  rpId: string;
  rpName: string;
  /** Origins the browser may be on, e.g. `https://example.com`. */
  origins: readonly string[];
  /** Let an anonymous caller register a passkey for a new user name. Default false. */
  allowNewUsers?: boolean;
  /** Refuses new user names that exist elsewhere (root, users of other plugins). */
  isReservedUser?: (user: string) => boolean | Promise<boolean>;
  /** How long a challenge stays valid. Default 60 s. */
  challengeTtlMs?: number;
  /** Require user verification (PIN, biometrics). Default true. */
  requireUserVerification?: boolean;
  /**
   * Where challenges wait for their answer ("passkey-registration", "passkey-login"); in
   * memory by default, Redis to let a login started on one node finish on another.
   */
  challengeStores?: SingleUseStoreFactory;
}

interface RegistrationChallenge {
  user: string;
  handle: string;
  isNewUser: boolean;
}

const USER_NAME = /^[a-z0-9][a-z0-9._@-]{1,63}$/;

/**
 * WebAuthn passkeys: registration and login with single-use, short-lived challenges
 * and the signature counter checked (a counter that does not move forward means a
 * cloned authenticator or a replay, and is refused).
 */
export class PasskeyService {
  readonly #options: PasskeyOptions;
  readonly #store: PasskeyCredentialStore;
  readonly #registrations: SingleUseStore<RegistrationChallenge>;
  readonly #logins: SingleUseStore<true>;
  readonly #now: () => number;

  constructor(options: PasskeyOptions & { store: PasskeyCredentialStore; now?: () => number }) {
    this.#options = options;
    this.#store = options.store;
    this.#now = options.now ?? Date.now;
    const ttlMs = options.challengeTtlMs ?? 60_000;
    const stores =
      options.challengeStores ??
      (<T>(_name: string, ttl: number) => new MemorySingleUseStore<T>({ ttlMs: ttl, now: options.now }));
    this.#registrations = stores<RegistrationChallenge>("passkey-registration", ttlMs);
    this.#logins = stores<true>("passkey-login", ttlMs);
  }

  /**
   * Options for `navigator.credentials.create()`. A logged-in `actingUser` adds a
   * passkey to their account; without one, `newUser` names a fresh account when
   * the configuration allows it.
   */
  async registrationOptions(
    actingUser: string | undefined,
    newUser: string | undefined,
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const user = actingUser ?? (await this.#checkNewUser(newUser));
    const handle = await this.#store.userHandle(user);
    const options = await (await webauthn()).generateRegistrationOptions({
      rpName: this.#options.rpName,
      rpID: this.#options.rpId,
      userName: user,
      userID: Buffer.from(handle, "base64url"),
      excludeCredentials: (await this.#store.credentialsOf(user)).map((c) => ({
        id: c.id,
        transports: c.transports,
      })),
      authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
      timeout: this.#options.challengeTtlMs ?? 60_000,
    });
    await this.#registrations.put(options.challenge, { user, handle, isNewUser: actingUser === undefined });
    return options;
  }

  /** Verifies and stores a new credential; answers the user it belongs to. */
  async verifyRegistration(
    response: RegistrationResponseJSON,
  ): Promise<{ user: string; credentialId: string }> {
    const challenge = clientChallenge(response.response.clientDataJSON);
    const pending = await this.#registrations.take(challenge);
    if (!pending) throw new LoginError("challenge_invalid", "unknown, used or expired passkey challenge");
    let verification: Awaited<ReturnType<WebAuthn["verifyRegistrationResponse"]>>;
    try {
      verification = await (await webauthn()).verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: [...this.#options.origins],
        expectedRPID: this.#options.rpId,
        requireUserVerification: this.#options.requireUserVerification ?? true,
      });
    } catch {
      throw new LoginError("passkey_invalid", "the passkey registration could not be verified");
    }
    if (!verification.verified)
      throw new LoginError("passkey_invalid", "the passkey registration was not verified");
    const { credential, credentialDeviceType, credentialBackedUp } = verification.registrationInfo;
    const added = await this.#store.add(
      {
        id: credential.id,
        user: pending.user,
        publicKey: credential.publicKey,
        counter: credential.counter,
        transports: credential.transports ?? response.response.transports ?? [],
        deviceType: credentialDeviceType,
        backedUp: credentialBackedUp,
        createdAt: new Date(this.#now()).toISOString(),
      },
      pending.handle,
      pending.isNewUser,
    );
    if (!added)
      throw new LoginError("passkey_conflict", "this user or credential is already registered", 409);
    return { user: pending.user, credentialId: credential.id };
  }

  /** Options for `navigator.credentials.get()`; for a named user, their credentials are listed. */
  async authenticationOptions(user?: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const credentials = user ? await this.#store.credentialsOf(user) : [];
    const options = await (await webauthn()).generateAuthenticationOptions({
      rpID: this.#options.rpId,
      allowCredentials: credentials.map((c) => ({ id: c.id, transports: c.transports })),
      userVerification: "preferred",
      timeout: this.#options.challengeTtlMs ?? 60_000,
    });
    await this.#logins.put(options.challenge, true);
    return options;
  }

  /** Verifies a login assertion; its challenge is spent whatever the outcome. */
  async authenticate(response: AuthenticationResponseJSON): Promise<LoginIdentity> {
    const challenge = clientChallenge(response.response.clientDataJSON);
    if (!(await this.#logins.take(challenge))) {
      throw new LoginError("challenge_invalid", "unknown, used or expired passkey challenge");
    }
    const credential = await this.#store.get(response.id);
    if (!credential) throw new LoginError("passkey_unknown", "this passkey is not registered");
    let verification: Awaited<ReturnType<WebAuthn["verifyAuthenticationResponse"]>>;
    try {
      verification = await (await webauthn()).verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: [...this.#options.origins],
        expectedRPID: this.#options.rpId,
        credential: {
          id: credential.id,
          publicKey: credential.publicKey,
          counter: credential.counter,
          transports: credential.transports,
        },
        requireUserVerification: this.#options.requireUserVerification ?? true,
      });
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("Response counter value")) throw counterError();
      throw new LoginError("passkey_invalid", "the passkey assertion could not be verified");
    }
    if (!verification.verified)
      throw new LoginError("passkey_invalid", "the passkey assertion was not verified");
    // Re-checked atomically against the store, so two concurrent uses cannot both pass.
    if (!(await this.#store.updateCounter(credential.id, verification.authenticationInfo.newCounter)))
      throw counterError();
    return { user: credential.user, claims: { amr: ["passkey"] } };
  }

  async #checkNewUser(user: string | undefined): Promise<string> {
    if (!this.#options.allowNewUsers) {
      throw new LoginError("login_required", "log in to register a passkey", 401);
    }
    if (!user || !USER_NAME.test(user)) {
      throw new LoginError(
        "user_invalid",
        "a new user name: 2-64 of a-z 0-9 . _ @ -, starting with a letter or digit",
      );
    }
    if ((await this.#store.hasUser(user)) || (await this.#options.isReservedUser?.(user))) {
      throw new LoginError("user_taken", `the user name "${user}" is taken`, 409);
    }
    return user;
  }
}

function counterError(): LoginError {
  return new LoginError("counter_replay", "the authenticator's signature counter did not advance");
}

/** The challenge the browser signed, read from `clientDataJSON` to find our record of it. */
function clientChallenge(clientDataJSON: string): string {
  try {
    const challenge = JSON.parse(Buffer.from(clientDataJSON, "base64url").toString("utf8")).challenge;
    if (typeof challenge === "string" && challenge.length <= 512) return challenge;
  } catch {
    // fall through
  }
  throw new LoginError("passkey_invalid", "the passkey response has no readable challenge");
}
