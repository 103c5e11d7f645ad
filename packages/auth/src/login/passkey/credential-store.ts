import { randomBytes } from "node:crypto";
import type { CredentialDeviceType } from "@simplewebauthn/server";
import type { Database, RootDatabase } from "lmdb";

/** A registered passkey. */
export interface PasskeyCredential {
  /** base64url credential id. */
  id: string;
  user: string;
  publicKey: Uint8Array<ArrayBuffer>;
  /** The authenticator's signature counter as last seen; a response must exceed it. */
  counter: number;
  transports: string[];
  deviceType: CredentialDeviceType;
  backedUp: boolean;
  createdAt: string;
}

interface PasskeyUser {
  /** The WebAuthn user handle (random, base64url), so the user name never reaches the authenticator's handle. */
  handle: string;
  credentialIds: string[];
}

/** Passkey credentials and their users, persisted in LMDB. */
export class PasskeyCredentialStore {
  readonly #credentials: Database<PasskeyCredential, string>;
  readonly #users: Database<PasskeyUser, string>;

  constructor(options: { db: RootDatabase }) {
    this.#credentials = options.db.openDB<PasskeyCredential, string>({ name: "auth-passkey-credentials" });
    this.#users = options.db.openDB<PasskeyUser, string>({ name: "auth-passkey-users" });
  }

  get(credentialId: string): PasskeyCredential | undefined {
    const stored = this.#credentials.get(credentialId);
    return stored && { ...stored, publicKey: new Uint8Array(stored.publicKey) };
  }

  credentialsOf(user: string): PasskeyCredential[] {
    const ids = this.#users.get(user)?.credentialIds ?? [];
    return ids.map((id) => this.get(id)).filter((c): c is PasskeyCredential => c !== undefined);
  }

  hasUser(user: string): boolean {
    return this.#users.get(user) !== undefined;
  }

  /** The user's WebAuthn handle, created on first use. */
  userHandle(user: string): string {
    return this.#users.get(user)?.handle ?? randomBytes(32).toString("base64url");
  }

  /**
   * Stores a new credential. With `mustBeNewUser`, fails (returns false) when the
   * user got a passkey meanwhile, so two anonymous sign-ups cannot share a name.
   */
  add(credential: PasskeyCredential, handle: string, mustBeNewUser: boolean): boolean {
    return this.#credentials.transactionSync(() => {
      const user = this.#users.get(credential.user);
      if ((mustBeNewUser && user) || this.#credentials.get(credential.id)) return false;
      this.#users.putSync(credential.user, {
        handle: user?.handle ?? handle,
        credentialIds: [...(user?.credentialIds ?? []), credential.id],
      });
      this.#credentials.putSync(credential.id, credential);
      return true;
    });
  }

  /** Records a verified use; refuses (returns false) a counter that did not move forward. */
  updateCounter(credentialId: string, counter: number): boolean {
    return this.#credentials.transactionSync(() => {
      const stored = this.#credentials.get(credentialId);
      if (!stored || ((counter > 0 || stored.counter > 0) && counter <= stored.counter)) return false;
      this.#credentials.putSync(credentialId, { ...stored, counter });
      return true;
    });
  }
}
