import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { LoginError } from "../errors.js";
import type { CallbackMode } from "../providers/login-provider.js";

/**
 * Binds a started login to the browser that started it, against login CSRF: the
 * start sets a cookie holding a random id, the pending login keeps the id's hash,
 * and the callback must bring the cookie back. An attacker who starts a login and
 * makes a victim's browser finish it cannot put that cookie in the victim's browser.
 *
 * Each login has its own cookie, named after its state, so logins in two tabs do
 * not undo each other; the cookie lives as long as the login may.
 *
 * A `form_post` callback (Sign in with Apple) is a cross-site POST, which carries
 * only `SameSite=None` cookies, and browsers accept those only `Secure`: such
 * plugins need an https public URL (or loopback, which browsers treat as secure).
 */
export class LoginBrowserBinding {
  readonly #publicUrl: URL;
  readonly #maxAgeSeconds: number;

  constructor(options: { publicUrl: string; ttlMs: number }) {
    this.#publicUrl = new URL(options.publicUrl);
    this.#maxAgeSeconds = Math.max(1, Math.ceil(options.ttlMs / 1000));
  }

  /** Throws 400 `https_required` when a `form_post` callback could not carry the cookie. */
  assertPossible(mode: CallbackMode): void {
    if (mode === "form_post" && !isSecureContext(this.#publicUrl)) {
      throw new LoginError(
        "https_required",
        "form_post logins (Sign in with Apple) need an https public URL: their cookie must be Secure",
      );
    }
  }

  /** Sets the login's cookie on the start response; returns what the pending login keeps. */
  bind(c: Context, state: string, mode: CallbackMode): string {
    this.assertPossible(mode);
    const id = randomBytes(32).toString("base64url");
    setCookie(c, cookieName(state), id, { ...this.#attributes(mode), maxAge: this.#maxAgeSeconds });
    return hash(id);
  }

  /**
   * Clears the callback's cookie (the login is spent either way), then throws 400
   * `browser_mismatch` unless the cookie is the one `binding` was made from.
   */
  verify(c: Context, state: string, mode: CallbackMode, binding: string): void {
    const id = getCookie(c, cookieName(state));
    deleteCookie(c, cookieName(state), this.#attributes(mode));
    const expected = Buffer.from(binding, "base64url");
    const given = Buffer.from(hash(id ?? ""), "base64url");
    if (id === undefined || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new LoginError(
        "browser_mismatch",
        "this login was not started in this browser (its login cookie is missing, expired or another one)",
      );
    }
  }

  #attributes(mode: CallbackMode) {
    return {
      path: "/x/auth",
      httpOnly: true,
      ...(mode === "form_post"
        ? { sameSite: "None" as const, secure: true }
        : { sameSite: "Lax" as const, secure: this.#publicUrl.protocol === "https:" }),
    };
  }
}

/** `amp_login_` + 96 bits of the state's hash: short, and unique among a browser's logins. */
function cookieName(state: string): string {
  return `amp_login_${hash(state).slice(0, 16)}`;
}

function hash(value: string): string {
  return createHash("sha256").update(value).digest("base64url");
}

/** https, or a loopback host, which browsers treat as secure (Secure cookies work there). */
function isSecureContext(url: URL): boolean {
  if (url.protocol === "https:") return true;
  const host = url.hostname;
  return host === "localhost" || host.endsWith(".localhost") || host === "[::1]" || /^127\./.test(host);
}
