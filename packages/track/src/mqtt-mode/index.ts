export {
  DEFAULT_MQTT_TRACK_LIMITS,
  MqttTrack,
  type MqttTrackLimits,
  type MqttTrackOptions,
} from "./mqtt-track.js";
export { type InboundMessage, parseTrackPayload, ResponseEncoder } from "./payload.js";
