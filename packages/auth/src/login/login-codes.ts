import { createHash, randomBytes } from "node:crypto";
import type { LoginCodeRedeemer, LoginIdentity } from "../login-identity.js";
import { MemorySingleUseStore, type SingleUseStore } from "./single-use-store.js";

export interface LoginCodeStoreOptions {
  /** How long a code may wait to be redeemed. Default 60 s. Unused with `store`. */
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
  /** Where codes wait (by the hash of each); in memory by default, e.g. Redis for several nodes. */
  store?: SingleUseStore<LoginIdentity>;
}

/** How long a code may wait to be redeemed by default. */
export const LOGIN_CODE_TTL_MS = 60_000;

/**
 * Single-use, short-lived amp authorization codes, issued after a successful login
 * and redeemed once by `/x/token`. Only a hash of each code is kept, so a memory
 * (or Redis) dump does not hand out logins.
 */
export class LoginCodeStore implements LoginCodeRedeemer {
  readonly #codes: SingleUseStore<LoginIdentity>;

  constructor(options: LoginCodeStoreOptions = {}) {
    this.#codes =
      options.store ??
      new MemorySingleUseStore({
        ttlMs: options.ttlMs ?? LOGIN_CODE_TTL_MS,
        maxEntries: options.maxEntries,
        now: options.now,
      });
  }

  /** A fresh 256-bit code for `identity`. */
  async issue(identity: LoginIdentity): Promise<string> {
    const code = randomBytes(32).toString("base64url");
    await this.#codes.put(hashCode(code), structuredClone(identity));
    return code;
  }

  /** The identity behind `code`, once; `undefined` for an unknown, used or expired code. */
  async redeem(code: string): Promise<LoginIdentity | undefined> {
    if (typeof code !== "string" || code.length === 0 || code.length > 256) return undefined;
    return this.#codes.take(hashCode(code));
  }
}

function hashCode(code: string): string {
  return createHash("sha256").update(code).digest("base64url");
}
