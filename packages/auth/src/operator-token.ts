import type { RecordStore } from "@amp/records";
import { type Envelope, type KeyProvider, Secrets } from "@amp/secrets";
import type { Logger } from "pino";
import { parseDuration } from "./duration.js";
import { AUTH_VAULT_APP, TokenService } from "./token-service.js";

export interface OperatorTokenOptions {
  /** The server's database dir (needs the access the server's owner has). */
  databaseDir: string;
  user: string;
  /** Seconds, or a duration such as "90m", "12h", "7d". Default: 1 hour. */
  ttl?: number | string;
  /** `RMX_MASTER_KEY`, when the server's keyring is sealed by it. */
  masterKey?: string;
  /** The server's key provider when it is not the local keyring (e.g. GCP KMS). */
  provider?: KeyProvider;
  /** The server's secrets store when they are shared (`--database-url`), not in the database dir. */
  secretsStore?: RecordStore<Envelope>;
  /** Extra claims for the token. */
  claims?: Record<string, unknown>;
  logger?: Logger;
}

/**
 * A token signed with the server's own keys, for `amp token --user <name>`: it opens the
 * same secrets and key store as the server, and uses the issuer and audience the server
 * last started with. The server accepts it like any token it issued.
 */
export async function createOperatorToken(options: OperatorTokenOptions): Promise<string> {
  const ttlSeconds = tokenLifetimeSeconds(options.ttl);
  const secrets = new Secrets({
    databaseDir: options.databaseDir,
    masterKey: options.masterKey,
    provider: options.provider,
    logger: options.logger,
    ...(options.secretsStore ? { store: options.secretsStore } : {}),
  });
  try {
    const tokens = await TokenService.open({
      databaseDir: options.databaseDir,
      vault: secrets.scoped(AUTH_VAULT_APP),
      logger: options.logger,
    });
    try {
      return await tokens.issue(options.user, { ttlSeconds, claims: options.claims });
    } finally {
      await tokens.close();
    }
  } finally {
    await secrets.close();
  }
}

/** `--ttl` as whole seconds: a number of seconds, or a duration text such as "90m". */
function tokenLifetimeSeconds(ttl: number | string | undefined): number {
  if (typeof ttl !== "string") return ttl ?? 3600;
  const ms = parseDuration(ttl);
  if (ms === undefined || ms < 1_000) {
    throw new RangeError(
      `not a duration of a second or more: ${JSON.stringify(ttl.slice(0, 40))} (e.g. 90m, 12h, 7d)`,
    );
  }
  return Math.ceil(ms / 1_000);
}
