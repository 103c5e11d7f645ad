import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOperatorToken } from "@amp/auth";
import type { Envelope } from "@amp/secrets";
import { type Logger, pino } from "pino";
import { composeAmp } from "../../src/compose/compose.js";
import { openSharedRecordsAt } from "../../src/compose/shared-records.js";
import { type AmpServer, createServer, type ServerConfigInput, serverConfig } from "../../src/index.js";

/** The whole amp composition (every package, real stores) in this process, on ephemeral ports. */
export interface ComposedAmp {
  readonly server: AmpServer;
  readonly dataDir: string;
  url(path: string): string;
  /** A token signed with this server's own keys (as `amp token` makes; from PostgreSQL with `databaseUrl`). */
  token(user: string): Promise<string>;
  close(): Promise<void>;
}

export async function startComposed(
  input: ServerConfigInput = {},
  options: { logger?: Logger } = {},
): Promise<ComposedAmp> {
  const dataDir = mkdtempSync(join(tmpdir(), "amp-composed-"));
  const config = serverConfig({
    port: 0,
    adminPort: 0,
    brokerPort: 0,
    databaseDir: dataDir,
    logLevel: "silent",
    compiler: false,
    baseURL: "http://amp.test",
    rootUser: "root",
    ...input,
  });
  const logger = options.logger ?? pino({ level: "silent" });
  const composition = composeAmp(config, logger);
  const server = createServer(config, { logger, ...composition });
  await server.start();
  const port = server.addresses!.http.port;
  return {
    server,
    // The caller's folder when it passed one (a copy of another node's keyring).
    dataDir: config.databaseDir,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    async token(user) {
      const records = config.databaseUrl ? await openSharedRecordsAt(config.databaseUrl, logger) : undefined;
      try {
        return await createOperatorToken({
          databaseDir: config.databaseDir,
          user,
          ...(records ? { secretsStore: records.open<Envelope>("secrets") } : {}),
        });
      } finally {
        await records?.close();
      }
    },
    async close() {
      await server.terminate();
      for (const dir of new Set([dataDir, config.databaseDir])) rmSync(dir, { recursive: true, force: true });
    },
  };
}
