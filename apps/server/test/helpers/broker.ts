import { BrokerClient } from "@amp/broker";

/** An MQTT client of a node's broker over its WebSocket (`/x/broker.ws`), signed in with `token`. */
export function brokerOverWebSocket(
  node: { url(path: string): string },
  username: string,
  token: string,
  clientId?: string,
): Promise<BrokerClient> {
  return BrokerClient.connect({
    url: node.url("/x/broker.ws").replace(/^http/, "ws"),
    username,
    token,
    ...(clientId ? { clientId } : {}),
  });
}
