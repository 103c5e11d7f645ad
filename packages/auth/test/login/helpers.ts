import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Secrets } from "@amp/secrets";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import { pino } from "pino";
import { LOGIN_SECRETS_APP, openLoginRecords } from "../../src/login/index.js";
import type { AmpUser } from "../../src/user.js";

export const silentLogger = pino({ level: process.env.AMP_TEST_LOG_LEVEL ?? "silent" });

/**
 * Test-only stand-in for the auth middleware: the acting user comes from the
 * `x-test-user` header (`root` is root), anonymous without it.
 */
export function testUserMiddleware() {
  return async (
    c: { req: { header(n: string): string | undefined }; set(k: "user", v: AmpUser): void },
    next: () => Promise<void>,
  ) => {
    const id = c.req.header("x-test-user");
    c.set(
      "user",
      id
        ? { id, anonymous: false, root: id === "root", claims: {} }
        : { id: "anon-test", anonymous: true, root: false, claims: {} },
    );
    await next();
  };
}

/** Real login stores in a temp database dir: LMDB for configs and passkeys, real `@amp/secrets` for secrets. */
export function tempLoginStores() {
  const dir = mkdtempSync(join(tmpdir(), "amp-login-"));
  const records = openLoginRecords(dir);
  const vault = new Secrets({ databaseDir: dir });
  return {
    dir,
    records,
    vault,
    secrets: vault.scoped(LOGIN_SECRETS_APP),
    async close() {
      await records.close();
      await vault.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Serves `app` on an ephemeral loopback port. */
export async function listen(app: Hono<never> | { fetch: Hono["fetch"] }, hostname = "127.0.0.1") {
  return new Promise<{ port: number; close(): Promise<void> }>((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname }, (info: AddressInfo) => {
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            (server as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
  });
}

/** The `Set-Cookie` lines of a response that set or clear login cookies. */
export function loginCookies(response: Response): string[] {
  return response.headers.getSetCookie().filter((line) => line.startsWith("amp_login_"));
}
