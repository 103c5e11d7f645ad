import { GcpKmsProvider, type KeyProvider } from "@amp/secrets";
import type { Logger } from "pino";
import type { ServerConfig } from "../config/schema.js";

/** `--kms-key`: GCP KMS wraps the data keys instead of the local keyring. */
export function keyProvider(config: ServerConfig, logger: Logger): { provider?: KeyProvider } {
  if (!config.kmsKey || !config.kmsCredentials) return {};
  const { client_email, private_key, token_uri } = config.kmsCredentials;
  logger.info({ key: config.kmsKey }, "secrets: data keys wrapped by GCP KMS");
  return {
    provider: new GcpKmsProvider({
      keyName: config.kmsKey,
      credentials: { client_email, private_key, ...(token_uri ? { token_uri } : {}) },
      logger: logger.child({ component: "kms" }),
      ...(config.kmsEndpoint ? { endpoint: config.kmsEndpoint } : {}),
    }),
  };
}
