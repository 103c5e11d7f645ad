import { createHash, randomBytes } from "node:crypto";
import type { LoginCodeRedeemer, LoginIdentity } from "../login-identity.js";
import { SingleUseStore } from "./single-use-store.js";

export interface LoginCodeStoreOptions {
  /** How long a code may wait to be redeemed. Default 60 s. */
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

/**
 * Single-use, short-lived amp authorization codes, issued after a successful login
 * and redeemed once by `/x/token`. Only a hash of each code is kept, so a memory
 * dump does not hand out logins.
 */
export class LoginCodeStore implements LoginCodeRedeemer {
  readonly #codes: SingleUseStore<LoginIdentity>;

  constructor(options: LoginCodeStoreOptions = {}) {
    this.#codes = new SingleUseStore({ ...options, ttlMs: options.ttlMs ?? 60_000 });
  }

  /** A fresh 256-bit code for `identity`. */
  issue(identity: LoginIdentity): string {
    const code = randomBytes(32).toString("base64url");
    this.#codes.put(hashCode(code), structuredClone(identity));
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
