import { randomBytes } from "node:crypto";
import type { RecordStore, Records } from "@amp/records";
import type { CredentialDeviceType } from "@simplewebauthn/server";

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

/**
 * Passkey credentials and their users, in a record store (LMDB, or PostgreSQL so that a passkey
 * registered through one node signs in through any).
 */
export class PasskeyCredentialStore {
  /** Both kinds in one namespace (`c:<credential id>`, `u:<user>`), so `add` updates them atomically. */
  readonly #db: RecordStore<PasskeyCredential | PasskeyUser>;

  /** Earlier versions' passkeys moved in; every method waits for it. */
  readonly #adopted: Promise<void>;

  constructor(options: { records: Records }) {
    this.#db = options.records.open<PasskeyCredential | PasskeyUser>("auth-passkeys");
    this.#adopted = this.#adoptLegacy(options.records);
  }

  /** Moves passkeys stored by earlier versions (two LMDB tables) into this store's one namespace. */
  async #adoptLegacy(records: Records): Promise<void> {
    for (const [namespace, key] of [
      ["auth-passkey-users", userKey],
      ["auth-passkey-credentials", credentialKey],
    ] as const) {
      const legacy = records.open<PasskeyCredential | PasskeyUser>(namespace);
      for (const { key: old, value } of await legacy.range()) {
        await this.#db.update([key(old)], (current) =>
          current.has(key(old))
            ? { result: undefined }
            : { writes: new Map([[key(old), value]]), result: undefined },
        );
        await legacy.delete(old);
      }
    }
  }

  async get(credentialId: string): Promise<PasskeyCredential | undefined> {
    await this.#adopted;
    const stored = (await this.#db.get(credentialKey(credentialId))) as PasskeyCredential | undefined;
    return stored && { ...stored, publicKey: new Uint8Array(stored.publicKey) };
  }

  async credentialsOf(user: string): Promise<PasskeyCredential[]> {
    const ids = (await this.#user(user))?.credentialIds ?? [];
    const found = await Promise.all(ids.map((id) => this.get(id)));
    return found.filter((c): c is PasskeyCredential => c !== undefined);
  }

  async hasUser(user: string): Promise<boolean> {
    return (await this.#user(user)) !== undefined;
  }

  /** The user's WebAuthn handle, created on first use. */
  async userHandle(user: string): Promise<string> {
    return (await this.#user(user))?.handle ?? randomBytes(32).toString("base64url");
  }

  async #user(user: string): Promise<PasskeyUser | undefined> {
    await this.#adopted;
    return (await this.#db.get(userKey(user))) as PasskeyUser | undefined;
  }

  /**
   * Stores a new credential. With `mustBeNewUser`, fails (returns false) when the
   * user got a passkey meanwhile, so two anonymous sign-ups cannot share a name.
   */
  async add(credential: PasskeyCredential, handle: string, mustBeNewUser: boolean): Promise<boolean> {
    await this.#adopted;
    const [u, c] = [userKey(credential.user), credentialKey(credential.id)];
    return this.#db.update([u, c], (current) => {
      const user = current.get(u) as PasskeyUser | undefined;
      if ((mustBeNewUser && user) || current.has(c)) return { result: false };
      const updated: PasskeyUser = {
        handle: user?.handle ?? handle,
        credentialIds: [...(user?.credentialIds ?? []), credential.id],
      };
      return {
        writes: new Map<string, PasskeyCredential | PasskeyUser>([
          [u, updated],
          [c, credential],
        ]),
        result: true,
      };
    });
  }

  /** Records a verified use; refuses (returns false) a counter that did not move forward. */
  async updateCounter(credentialId: string, counter: number): Promise<boolean> {
    await this.#adopted;
    const c = credentialKey(credentialId);
    return this.#db.update([c], (current) => {
      const stored = current.get(c) as PasskeyCredential | undefined;
      if (!stored || ((counter > 0 || stored.counter > 0) && counter <= stored.counter))
        return { result: false };
      return { writes: new Map([[c, { ...stored, counter }]]), result: true };
    });
  }
}

const credentialKey = (id: string) => `c:${id}`;
const userKey = (user: string) => `u:${user}`;
