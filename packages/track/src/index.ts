export { InProcessDirectory, type SessionDirectory, type SessionWhereabouts } from "./cluster/directory.js";
export type { RelayTarget, SessionRelay, SessionRelayOptions } from "./cluster/relay.js";
export {
  EXECUTION_TIMED_OUT,
  NO_EXECUTABLE,
  NO_SUCH_SESSION,
  SESSION_TIMED_OUT,
  TrackError,
  type TrackErrorCode,
} from "./errors.js";
export { type TrackFfiCatalog, type TrackFfiOptions, trackFfiCatalog, trackFfis } from "./ffi/index.js";
export { UNSUPPORTED_FFIS } from "./ffi/misc.js";
export { REFUSED_FFIS, type RefusedFfi, type RefusedFfiName } from "./ffi/refused.js";
export { MAX_SLEEP_SECONDS } from "./ffi/sleep.js";
export { DEFAULT_WASM_LIMITS, type WasmLimits } from "./ffi/wasm.js";
export { DEFAULT_WEBSOCKET_LIMITS, type WebSocketLimits } from "./ffi/websocket.js";
export {
  DEFAULT_MQTT_TRACK_LIMITS,
  MqttTrack,
  type MqttTrackLimits,
  type MqttTrackOptions,
} from "./mqtt-mode/index.js";
export { isPrivateAddress } from "./outbound/addresses.js";
export {
  OutboundHttp,
  type OutboundOptions,
  type OutboundRequest,
  type OutboundResponse,
} from "./outbound/http-client.js";
export type {
  ActingUser,
  TrackApps,
  TrackMqtt,
  TrackSecrets,
  TrackTokens,
  TrackVmOwners,
} from "./ports.js";
export type {
  ServerMachineSinks,
  TrackConnection,
  TrackProtocolOptions,
} from "./protocol/context.js";
export { TrackProtocol } from "./protocol/dispatch.js";
export { SERVER_MACHINES } from "./protocol/handlers/session.js";
export {
  AnyMessageSchema,
  isMessageType,
  MESSAGE_SCHEMAS,
  MESSAGE_TYPES,
  type MessageType,
  type TrackMessage,
} from "./protocol/messages.js";
export {
  cellMessage,
  type ResponseError,
  type TrackResponse,
  TrackResponseSchema,
} from "./protocol/response.js";
export { clientJson, OPAQUE_TOKEN } from "./protocol/values.js";
export { CodeCache } from "./session/code-cache.js";
export { LiveSessions, type SessionEvent } from "./session/live.js";
export {
  type CreateSessionOptions,
  type SessionChange,
  type SessionInfo,
  SessionManager,
  type SessionManagerOptions,
} from "./session/manager.js";
export { Session, type SessionSink } from "./session/session.js";
export { type SessionsRoutesOptions, sessionsRoutes } from "./sessions-routes.js";
export {
  TRANSFORM_ROLES,
  type TransformKind,
  type TransformRequest,
  type TransformResult,
  Transforms,
  type TransformsOptions,
  type WarmAgent,
} from "./transforms.js";
export { findViewNodes, type ViewNode, viewTexts } from "./view.js";
