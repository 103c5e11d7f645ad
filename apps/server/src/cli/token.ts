import { parseArgs } from "node:util";
import { createOperatorToken } from "@amp/auth";
import type { Envelope } from "@amp/secrets";
import { pino } from "pino";
import { keyProvider } from "../compose/key-provider.js";
import { openSharedRecordsAt } from "../compose/shared-records.js";
import { ConfigError } from "../config/errors.js";
import { loadConfig } from "../config/load.js";
import type { ServerConfig } from "../config/schema.js";
import { EXIT_BAD_CONFIG, EXIT_FAILED, EXIT_OK, type ServeIO } from "./serve.js";

const USAGE = `Usage: amp token --user <name> [--ttl <duration>] [--database-dir <dir>]

Prints a token for <name>, signed with this server's own keys, alone on its last line.
It needs the database dir as the server's owner has it, and the server's environment for its keys:
RMX_MASTER_KEY when the server uses one, RMX_KMS_KEY and RMX_KMS_CREDENTIALS when GCP KMS seals them,
RMX_DATABASE_URL when the server's secrets are in PostgreSQL (several nodes).

  --user <name>         the token's user (required)
  --ttl <duration>      lifetime, e.g. "90m", "12h" (default: the server's session length)
  --database-dir <dir>  the server's database dir (default ./data)
`;

/** `amp token`: a token for operators, scripts and tests. */
export async function printOperatorToken(io: Omit<ServeIO, "compose">): Promise<void> {
  let values: { user?: string; ttl?: string; "database-dir"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...io.argv],
      options: {
        user: { type: "string" },
        ttl: { type: "string" },
        "database-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (error) {
    io.stderr(`amp token: ${(error as Error).message}\n${USAGE}`);
    return io.exit(EXIT_BAD_CONFIG);
  }
  if (values.help) {
    io.stdout(USAGE);
    return io.exit(EXIT_OK);
  }
  if (!values.user) {
    io.stderr(`amp token: --user is required\n${USAGE}`);
    return io.exit(EXIT_BAD_CONFIG);
  }
  const databaseDir = values["database-dir"] ?? "data";
  let config: ServerConfig | undefined;
  try {
    // The server's own settings from the environment: its keyring or GCP KMS (RMX_KMS_*).
    const commandLine = loadConfig(["--database-dir", databaseDir], io.env);
    if (!commandLine.help) config = commandLine.config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`amp token: ${error.message}\n`);
    return io.exit(EXIT_BAD_CONFIG);
  }
  const silent = pino({ level: "silent" });
  try {
    const records = config?.databaseUrl ? await openSharedRecordsAt(config.databaseUrl, silent) : undefined;
    try {
      const token = await createOperatorToken({
        databaseDir,
        user: values.user,
        ...(values.ttl ? { ttl: values.ttl } : {}),
        ...(config?.masterKey ? { masterKey: config.masterKey } : {}),
        ...(config ? keyProvider(config, silent) : {}),
        ...(records ? { secretsStore: records.open<Envelope>("secrets") } : {}),
      });
      io.stdout(`${token}\n`);
    } finally {
      await records?.close();
    }
    io.exit(EXIT_OK);
  } catch (error) {
    io.stderr(`amp token: ${(error as Error).message}\n`);
    io.exit(EXIT_FAILED);
  }
}
