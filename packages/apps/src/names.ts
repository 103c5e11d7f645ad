import { AppsError } from "./errors.js";

/** App names become directory names and URL segments: a conservative alphabet, no dots at the start. */
const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
/** Names reserved for the system stores and the server's own routes. */
const RESERVED_APPS = new Set(["x", "_rmx_admin", "_rmx_meta"]);

/**
 * Document ids, blob refs and file names: printable, no path separators, no
 * control characters, not `.` or `..`. Remix ids are 32 base62 characters, but
 * names such as `$settings$` or `logo.png` occur too.
 */
const ITEM_NAME_MAX = 256;
const FORBIDDEN_IN_ITEM = /[/\\]/;

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

export function checkAppName(name: string): string {
  if (!APP_NAME.test(name) || RESERVED_APPS.has(name)) {
    throw new AppsError("invalid_name", `invalid app name ${JSON.stringify(name.slice(0, 120))}`);
  }
  return name;
}

export function isValidAppName(name: string): boolean {
  return APP_NAME.test(name) && !RESERVED_APPS.has(name);
}

export function checkItemName(name: string, what = "id"): string {
  const bad =
    name.length === 0 ||
    name.length > ITEM_NAME_MAX ||
    name === "." ||
    name === ".." ||
    FORBIDDEN_IN_ITEM.test(name) ||
    hasControlCharacter(name);
  if (bad) {
    throw new AppsError("invalid_name", `invalid ${what} ${JSON.stringify(name.slice(0, 120))}`);
  }
  return name;
}

/** A blob ref is a lowercase sha256 hex digest. */
export function checkBlobRef(ref: string): string {
  if (!/^[0-9a-f]{64}$/.test(ref)) throw new AppsError("invalid_name", "a blob ref is a sha256 hex digest");
  return ref;
}
