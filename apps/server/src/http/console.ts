import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { extname, isAbsolute, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { Hono } from "hono";
import { errorResponse } from "./errors.js";

/** Where the console is served. */
export const CONSOLE_PATH = "/_/";

/**
 * The built console (`apps/console`, `vite build`) beside this package in the workspace: the
 * same distance from `src/http/` and from `dist/http/`. Absent when it was not built.
 */
export const CONSOLE_DIST = fileURLToPath(new URL("../../../console/dist/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

/** Vite names what it builds into assets/ by content hash: such a file never changes. */
const IMMUTABLE = "public, max-age=31536000, immutable";
const POLICY = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data: blob:",
  "style-src 'self' 'unsafe-inline'",
  "frame-ancestors 'none'",
].join("; ");

/** Whether `dist` holds a built console. */
export function consoleBuilt(dist: string = CONSOLE_DIST): boolean {
  return existsSync(resolve(dist, "index.html"));
}

/**
 * The console under `/_/`: its files, `index.html` (never cached) for any other path below it
 * so the console's own routes load, and `GET /` sends a browser there. No routes when `dist`
 * has no build: the server then runs without a console and `/` keeps its welcome page.
 */
export function consoleRoutes(dist: string = CONSOLE_DIST): Hono {
  const app = new Hono();
  if (!consoleBuilt(dist)) return app;
  const index = resolve(dist, "index.html");
  app.get("/", async (c, next) => {
    if (!(c.req.header("accept") ?? "").includes("text/html")) return next();
    return c.redirect(CONSOLE_PATH, 302);
  });
  app.get(CONSOLE_PATH.slice(0, -1), (c) => c.redirect(CONSOLE_PATH, 301));
  app.get(`${CONSOLE_PATH}*`, async (c) => {
    let rest: string;
    try {
      rest = decodeURIComponent(c.req.path.slice(CONSOLE_PATH.length));
    } catch {
      return errorResponse(c, 400, "bad_path", "the path is not valid percent-encoding");
    }
    const file = fileIn(dist, rest);
    if (file === undefined) return errorResponse(c, 404, "not_found", "no such file");
    const found = rest !== "" && (await stat(file).catch(() => undefined))?.isFile();
    // A missing asset is a 404; any other path is one of the console's routes.
    if (!found && rest.startsWith("assets/")) return errorResponse(c, 404, "not_found", "no such file");
    const path = found ? file : index;
    const headers: Record<string, string> = {
      "content-type": TYPES[extname(path)] ?? "application/octet-stream",
      "x-content-type-options": "nosniff",
      "cache-control": found && rest.startsWith("assets/") ? IMMUTABLE : "no-cache",
    };
    if (path === index) headers["content-security-policy"] = POLICY;
    return c.body(await readFile(path), 200, headers);
  });
  return app;
}

/** The file `rest` names inside `root`, or undefined when it would leave it. */
function fileIn(root: string, rest: string): string | undefined {
  if (rest.includes("\0") || rest.includes("\\")) return undefined;
  const target = resolve(root, `.${sep}${rest}`);
  const rel = relative(root, target);
  if (rel.startsWith(`..${sep}`) || rel === ".." || isAbsolute(rel)) return undefined;
  return target;
}
