import type { IClientOptions, MqttClient } from "mqtt";
import { currentToken } from "../auth/credentials.js";

/** `$amp/sessions/<user>`: the user's sessions' events, as @amp/broker's `sessionEventsTopic` names it. */
export const sessionEventsTopic = (user: string) => `$amp/sessions/${encodeURIComponent(user)}`;
export const BROKER_CLIENTS_TOPIC = "$amp/broker/clients";
export const LOGS_TOPICS = "$amp/logs/#";

/**
 * Connects to the server's broker over `/x/broker.ws` (MQTT over WebSocket) as the signed-in
 * user, with their token; the broker's ACL decides what they may subscribe to.
 */
export async function connectBroker(user: string, options: IClientOptions = {}): Promise<MqttClient> {
  // Loaded on first use: the MQTT client is most of the console's code otherwise.
  const { default: mqtt } = await import("mqtt");
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/x/broker.ws`;
  return mqtt.connectAsync(url, {
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    clientId: `amp-console-${crypto.randomUUID().slice(0, 8)}`,
    username: user,
    password: `Bearer ${currentToken() ?? ""}`,
    ...options,
  });
}
