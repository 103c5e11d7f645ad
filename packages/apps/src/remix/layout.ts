import { extname } from "node:path";

/** `_rmx_id` of the imported app record (the `apps/<app>.mp` entry). */
export const APP_RECORD_ID = "_rmx_app";
/** `_rmx_id` prefix of executable/library documents (`apps/<app>/libraries/<file>`). */
export const LIBRARY_TYPE_PREFIX = "_rmx_library:";

/**
 * The `.remix` format version export writes in `manifest.json` (`"version": "2.1"`). Archives
 * without one (older exports, Remix's own) are read as before; any 1.x or 2.x is read; a newer
 * major is refused with `UnsupportedRemixVersionError`.
 */
export const REMIX_FORMAT_VERSION = "2.1";
export const REMIX_FORMAT_MAJOR = 2;

/** Keys in the app store's metadata that export needs. */
export const META = {
  manifest: "remix:manifest",
  /** Archive entries we do not interpret, kept as blobs (path → ref) so export writes them back. */
  extras: "remix:extras",
} as const;

const TYPES: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".svg": "image/svg+xml",
  ".webp": "image/webp",
  ".json": "application/json",
  ".css": "text/css",
  ".js": "text/javascript",
  ".txt": "text/plain",
  ".html": "text/html",
  ".wasm": "application/wasm",
};

export function contentTypeOf(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}
