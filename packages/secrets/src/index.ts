export { openAesGcm, sealAesGcm } from "./aes-gcm.js";
export { type Envelope, openEnvelope, type SecretContext, sealEnvelope } from "./envelope.js";
export {
  InvalidSecretError,
  KeyProviderError,
  SecretDecryptError,
  SecretNotFoundError,
  SecretsError,
  UnknownKeyVersionError,
} from "./errors.js";
export { type GcpKmsOptions, GcpKmsProvider, type ServiceAccountCredentials } from "./gcp-kms.js";
export type { KeyProvider, WrappedKey } from "./key-provider.js";
export { KEYRING_FILE, LocalKeyring, type LocalKeyringOptions, parseMasterKey } from "./local-keyring.js";
export { type ScopedSecrets, SECRET_NAME, type SecretInfo, Secrets, type SecretsOptions } from "./secrets.js";
