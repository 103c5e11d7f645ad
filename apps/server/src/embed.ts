import type { Logger } from "pino";
import { composeAmp } from "./compose/compose.js";
import { serverConfig } from "./config/load.js";
import type { ServerConfigInput } from "./config/schema.js";
import { type AmpServer, createServer } from "./lifecycle/server.js";
import { createLogger } from "./logging/logger.js";

export interface StartAmpOptions {
  /** Default: a pino logger at the config's log level. */
  logger?: Logger;
}

/**
 * The whole amp server inside another program (as the original's mobile library embeds it):
 * the same composition as the `amp` binary, from a config object instead of flags. Resolves
 * once every port is bound and every component has started; `stop()` drains and closes it.
 */
export async function startAmp(
  input: ServerConfigInput = {},
  options: StartAmpOptions = {},
): Promise<AmpServer> {
  const config = serverConfig(input);
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const server = createServer(config, { logger, ...composeAmp(config, logger) });
  await server.start();
  return server;
}
