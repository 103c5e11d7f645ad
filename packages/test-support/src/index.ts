export type { Browser, BrowserContext, Page } from "playwright-core";
export { appFixture, appWat, withInt32Sections } from "./app-fixtures.js";
export { startBroker, testBrokerDefaults } from "./broker.js";
export { addVirtualAuthenticator, CHROMIUM, launchChromium } from "./chromium.js";
export { type FakeGcpKms, startFakeGcpKms } from "./fake-gcp-kms.js";
export { type ErrorBody, errorCode, jsonBody } from "./json-body.js";
export { silentLogger } from "./logger.js";
export { freePort, type LoopbackServer, startLoopbackServer } from "./loopback.js";
export { startPostgres, type TestPostgres } from "./postgres-server.js";
export { rawExchange, rawJsonBody } from "./raw-http.js";
export { startRedis, type TestRedis } from "./redis-server.js";
export { buildRemix } from "./remix-archive.js";
export {
  findRemixArtifacts,
  type RemixArtifacts,
  remixArtifactsFor,
  SHARED_REMIX_PUBLIC,
} from "./remix-artifacts.js";
export { RoleTable } from "./role-table.js";
export { RUNTIME_HOST_PAGE, runtimeHostFolder } from "./runtime-host-page.js";
export { tempDir } from "./temp-dir.js";
export { TestTokens, type TestUser } from "./test-tokens.js";
export { TrackClient, type TrackExchange, type TrackReply } from "./track-client.js";
export { sessionCreate, viewInvoke, viewLoad } from "./track-messages.js";
export { leb } from "./wasm-bytes.js";
export { wat } from "./wat.js";
export {
  WAT_ANSWER,
  WAT_SYNTAX_ERROR,
  type WatCompileOutput,
  type WatDiagnostic,
  watCompiler,
} from "./wat-compiler.js";
