import { isAbsolute, relative, resolve, sep } from "node:path";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono } from "hono";
import { errorResponse } from "./errors.js";

/**
 * Serves `root` under `prefix` (e.g. "/e/"). Any path that would leave the folder, once
 * decoded, is refused before a file is looked up; serveStatic refuses such paths too.
 */
export function staticFolder(prefix: string, root: string): Hono {
  const app = new Hono();
  const pattern = `${prefix}*`;
  app.use(pattern, async (c, next) => {
    let rest: string;
    try {
      rest = decodeURIComponent(c.req.path.slice(prefix.length));
    } catch {
      return errorResponse(c, 400, "bad_path", "the path is not valid percent-encoding");
    }
    if (!isInside(root, rest)) return errorResponse(c, 404, "not_found", "no such file");
    return next();
  });
  app.use(pattern, serveStatic({ root, rewriteRequestPath: (path) => `/${path.slice(prefix.length)}` }));
  return app;
}

function isInside(root: string, rest: string): boolean {
  if (rest.includes("\0") || rest.includes("\\")) return false;
  const target = resolve(root, `.${sep}${rest}`);
  const rel = relative(root, target);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
