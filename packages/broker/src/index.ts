export { type AppRole, type AppRoles, type TokenVerifier, VmOwners } from "./access.js";
export { Broker, type BrokerOptions, type ConnectedClient } from "./broker.js";
export type { MessageBus, MessageHandler, PublishOptions, SubscribeOptions, Unsubscribe } from "./bus.js";
export { BrokerClient, type BrokerClientOptions } from "./client.js";
export type { ClientChange } from "./client-events.js";
export { redisOptions } from "./cluster.js";
export {
  type DriverFrame,
  DriverParam,
  type DriverParamEntry,
  DriverReply,
  DriverRequest,
  decodeDriverFrame,
  driverValue,
  encodeDriverFrame,
  MAX_DRIVER_FRAME_BYTES,
} from "./driver-frame.js";
export { BrokerError, type BrokerErrorCode } from "./errors.js";
export {
  decodeHeader,
  encodeHeader,
  MAX_HEADER_BYTES,
  type PayloadEncoding,
  type PayloadHeader,
} from "./header.js";
export { type BrokerLimits, defaultLimits } from "./limits.js";
export { LiveFeed } from "./live-feed.js";
export { BROKER_CLIENTS_TOPIC, LIVE_PREFIX, logsTopic, sessionEventsTopic } from "./live-topics.js";
export {
  decodeMessage,
  encodeMessage,
  type JsonBodyCodec,
  plainJson,
  type RemixMessage,
  taggedJson,
} from "./message.js";
export { Requester, type RequestOptions, serveRequests } from "./request.js";
export { TopicAcl, type TopicAclOptions, type TopicAction } from "./topic-acl.js";
export { topicMatches } from "./topic-match.js";
export {
  type OutgoingMessage,
  publishMessage,
  type SubscribeMessagesOptions,
  subscribeMessages,
  type TypedOptions,
} from "./typed.js";
export {
  attachBrokerWebSocket,
  BROKER_WS_PATH,
  BrokerWebSocket,
  type BrokerWebSocketOptions,
} from "./websocket.js";
