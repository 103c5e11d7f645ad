import type { Logger } from "pino";
import type { Composition } from "../compose/composition.js";
import { ConfigError } from "../config/errors.js";
import { loadConfig } from "../config/load.js";
import type { ServerConfig } from "../config/schema.js";
import { CONSOLE_PATH, consoleBuilt } from "../http/console.js";
import type { ServerAddresses } from "../lifecycle/component.js";
import { type AmpServer, createServer } from "../lifecycle/server.js";
import { createLogger } from "../logging/logger.js";
import { helpText } from "./help.js";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_CONFIG = 2;

const SIGNAL_NUMBERS: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };

export interface ServeIO {
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether a person watches stderr (a terminal): then a short banner follows the JSON "ready" line. */
  tty?: boolean;
  /** Called with the exit status once the server has stopped or failed. */
  exit: (code: number) => void;
  /** The server's parts (stores, routes, auth), opened when it starts; `composeAmp` in the real binary. */
  compose?: (config: ServerConfig, logger: Logger) => Composition;
}

/**
 * `amp serve`: load the config (exit 2 when bad), start the server, and stop it on
 * SIGTERM/SIGINT: drain, stop components, exit 0. A second signal exits at once.
 */
export async function serve(io: ServeIO): Promise<AmpServer | undefined> {
  let config: ServerConfig;
  try {
    const commandLine = loadConfig(io.argv, io.env);
    if (commandLine.help) {
      io.stdout(helpText());
      io.exit(EXIT_OK);
      return undefined;
    }
    config = commandLine.config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`amp: ${error.message}\nRun "amp --help" for every flag and variable.\n`);
    io.exit(EXIT_BAD_CONFIG);
    return undefined;
  }

  const logger = createLogger({ level: config.logLevel });
  const server = createServer(config, { logger, ...io.compose?.(config, logger) });
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!signalled) {
      signalled = true;
      logger.info({ signal }, "signal received: draining (send it again to exit at once)");
      server.stop().then(
        (result) => io.exit(result.failed.length === 0 ? EXIT_OK : EXIT_FAILED),
        (error: unknown) => {
          logger.fatal({ err: error }, "stop failed");
          io.exit(EXIT_FAILED);
        },
      );
      return;
    }
    logger.warn({ signal }, "second signal: exiting at once");
    void server.terminate();
    io.exit(128 + (SIGNAL_NUMBERS[signal] ?? 1));
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  // A bug that escapes every handler leaves state unknown: log it where operators look, then exit.
  const crash = (error: unknown) => {
    logger.fatal({ err: error }, "uncaught error: exiting");
    void server.terminate();
    io.exit(EXIT_FAILED);
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);

  try {
    const addresses = await server.start();
    if (io.tty) io.stderr(banner(config, addresses));
  } catch (error) {
    // The message already ends with the cause's; logged as `err`, pino would repeat it.
    const { cause } = error as Error;
    logger.fatal({ err: cause instanceof Error ? cause : error }, (error as Error).message);
    io.exit(EXIT_FAILED);
  }
  return server;
}

/** What a person starting amp in a terminal wants to know first, beside the JSON logs. */
function banner(config: ServerConfig, addresses: ServerAddresses): string {
  const api = config.baseURL ?? `http://localhost:${addresses.http.port}`;
  const ws = api.replace(/^http/, "ws").replace(/\/$/, "");
  const admin = `http://${addresses.admin.host}:${addresses.admin.port}`;
  return [
    "",
    `  amp is ready (${config.org}/${config.workspace})`,
    `  API      ${api}   described at ${api.replace(/\/$/, "")}/x/openapi.json`,
    ...(consoleBuilt() ? [`  Console  ${api.replace(/\/$/, "")}${CONSOLE_PATH}`] : []),
    `  Broker   mqtt://localhost:${config.brokerPort}   ${ws}/x/broker.ws`,
    `  Admin    ${admin}/metrics`,
    "",
    "",
  ].join("\n");
}
