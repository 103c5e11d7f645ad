import { BrokerClient } from "@amp/broker";
import { expect } from "vitest";

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

/** Subscribes `client` to `filter` (QoS 1); the answer fills with `"<topic> <payload>"` as messages arrive. */
export async function receivedOn(client: BrokerClient, filter: string): Promise<string[]> {
  const received: string[] = [];
  await client.subscribe(filter, (topic, payload) => received.push(`${topic} ${Buffer.from(payload)}`), {
    qos: 1,
  });
  return received;
}

/**
 * Publishes `text` on `topic` (QoS 1) until `received` holds it: a subscription made on one node
 * reaches the others through Redis shortly after its SUBACK.
 */
export async function publishUntilReceived(
  publisher: BrokerClient,
  topic: string,
  text: string,
  received: readonly string[],
): Promise<void> {
  await expect
    .poll(
      async () => {
        await publisher.publish(topic, Buffer.from(text), { qos: 1 });
        return received;
      },
      { timeout: 10_000, interval: 100 },
    )
    .toContain(`${topic} ${text}`);
}
