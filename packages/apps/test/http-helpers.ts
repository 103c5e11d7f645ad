import { Hono } from "hono";
import { type AppsEnv, type AppsRoutesOptions, appsRoutes } from "../src/http.js";
import type { ActingUser } from "../src/index.js";
import { Apps, type AppsOptions } from "../src/index.js";
import { silentLogger, tempDir } from "./helpers.js";

/**
 * TEST ONLY: identity from the `x-test-user` header (`root`, `anon-…`, or a
 * user name), standing in for @amp/auth's middleware. Never shipped.
 */
export function testIdentity(name: string | undefined): ActingUser {
  if (!name || name.startsWith("anon-")) return { id: name ?? "anon-0", anonymous: true, root: false };
  return { id: name, anonymous: false, root: name === "root" };
}

export interface TestServer {
  apps: Apps;
  http: Hono<AppsEnv>;
  request(
    user: string | undefined,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Response>;
  close(): Promise<void>;
}

export function startTestServer(
  options: Omit<AppsRoutesOptions, "apps"> = {},
  appsOptions: Partial<Omit<AppsOptions, "dir" | "logger">> = {},
): TestServer {
  const dir = tempDir();
  const apps = new Apps({ ...appsOptions, dir: dir.path, logger: silentLogger });
  return serveApps(apps, options, async () => {
    await apps.close();
    dir.remove();
  });
}

/** The HTTP routes over a given registry (any engine); `close` runs `cleanup`. */
export function serveApps(
  apps: Apps,
  options: Omit<AppsRoutesOptions, "apps">,
  cleanup: () => Promise<void>,
): TestServer {
  const http = new Hono<AppsEnv>();
  http.use("*", async (c, next) => {
    c.set("user", testIdentity(c.req.header("x-test-user")));
    await next();
  });
  http.route("/", appsRoutes({ apps, ...options }));
  return {
    apps,
    http,
    request(user, method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (user) (init.headers as Record<string, string>)["x-test-user"] = user;
      if (body instanceof Uint8Array || typeof body === "string") init.body = body;
      else if (body !== undefined) {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)["content-type"] = "application/json";
      }
      return Promise.resolve(http.request(path, init));
    },
    close: cleanup,
  };
}
