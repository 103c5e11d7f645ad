export type { PluginConfig, PluginConfigInput } from "./config/schema.js";
export { PluginConfigInputSchema, PluginConfigSchema } from "./config/schema.js";
export { PluginConfigStore } from "./config/store.js";
export { openLoginRecords } from "./database.js";
export { LoginError } from "./errors.js";
export { LOGIN_CODE_TTL_MS, LoginCodeStore, type LoginCodeStoreOptions } from "./login-codes.js";
export { isAllowedUrl, type OutboundPolicy } from "./outbound.js";
export { type PasskeyCredential, PasskeyCredentialStore } from "./passkey/credential-store.js";
export { type PasskeyOptions, PasskeyService } from "./passkey/passkey-service.js";
export { appleClientSecret } from "./providers/apple-client-secret.js";
export type { PendingLogin } from "./providers/login-provider.js";
export { type LoginRoutesOptions, loginRoutes } from "./routes/login-routes.js";
export { LOGIN_SECRETS_APP, type SecretStore } from "./secret-store.js";
export {
  MemorySingleUseStore,
  memorySingleUseStores,
  type SingleUseStore,
  type SingleUseStoreFactory,
} from "./single-use-store.js";
