import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOperatorToken } from "@amp/auth";
import { pino } from "pino";
import { composeAmp } from "../../src/compose/compose.js";
import { type AmpServer, createServer, type ServerConfigInput, serverConfig } from "../../src/index.js";

/** The whole amp composition (every package, real stores) in this process, on ephemeral ports. */
export interface ComposedAmp {
  readonly server: AmpServer;
  readonly dataDir: string;
  url(path: string): string;
  /** A token signed with this server's own keys (as `amp token` makes). */
  token(user: string): Promise<string>;
  close(): Promise<void>;
}

export async function startComposed(input: ServerConfigInput = {}): Promise<ComposedAmp> {
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
  const logger = pino({ level: "silent" });
  const composition = composeAmp(config, logger);
  const server = createServer(config, { logger, ...composition });
  await server.start();
  const port = server.addresses!.http.port;
  return {
    server,
    dataDir,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    token: (user) => createOperatorToken({ databaseDir: dataDir, user }),
    async close() {
      await server.terminate();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
