export { type AdminAuthorizer, bearerCredentialAuthorizer } from "./admin/authorize.js";
export { ServerMetrics } from "./admin/metrics.js";
export { type BuildInfo, readBuildInfo } from "./build-info.js";
export { EXIT_BAD_CONFIG, EXIT_FAILED, EXIT_OK, type ServeIO, serve } from "./cli/serve.js";
export { composeAmp } from "./compose/compose.js";
export type { Composition } from "./compose/composition.js";
export { ConfigError } from "./config/errors.js";
export { type CommandLine, loadConfig, serverConfig } from "./config/load.js";
export { type ServerConfig, type ServerConfigInput, serverConfigSchema } from "./config/schema.js";
export { type StartAmpOptions, startAmp } from "./embed.js";
export { ErrorBodySchema, errorHandler, errorResponse, HttpError, notFoundHandler } from "./http/errors.js";
export type { Phase } from "./http/health.js";
export { OPENAPI_PATH } from "./http/openapi.js";
export type { ServerInfo } from "./http/server-info.js";
export type {
  Component,
  ComponentContext,
  ListenAddress,
  RouteMount,
  ServerAddresses,
} from "./lifecycle/component.js";
export {
  type AmpServer,
  type CreateServerOptions,
  createServer,
  type StopResult,
} from "./lifecycle/server.js";
export { createLogger, type LoggerSettings, loggerOptions } from "./logging/logger.js";
