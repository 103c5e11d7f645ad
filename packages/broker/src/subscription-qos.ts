import { topicMatches } from "./topic-match.js";

interface DeliveredPacket {
  topic: string;
  qos: number;
}
type Deliver = (packet: DeliveredPacket, callback: () => void) => void;

/** The parts of an aedes client this fix works on. */
interface AedesClientDelivery {
  subscriptions: Record<string, { qos: number }>;
  deliver0: Deliver;
  deliverQoS: Deliver;
}

/**
 * aedes delivers a message once per client (it dedupes overlapping subscriptions) but with the
 * QoS of whichever matching subscription fires first, and it downgrades to the subscription's QoS
 * only for an exact topic match. MQTT 3.1.1 wants min(published QoS, highest matching
 * subscription QoS) [MQTT-3.3.5-1, MQTT-3.8.4-6]. This wraps the client's two delivery paths:
 * a QoS 0 path steps aside when a higher-QoS subscription will deliver, and the QoS path sends
 * at the QoS the spec asks for.
 */
export function enforceSubscriptionQos(client: object): void {
  const c = client as AedesClientDelivery;
  const deliver0 = c.deliver0;
  const deliverQoS = c.deliverQoS;
  const effectiveQos = (packet: DeliveredPacket): number => {
    let granted = 0;
    for (const filter in c.subscriptions) {
      const qos = c.subscriptions[filter]!.qos;
      if (qos > granted && topicMatches(filter, packet.topic)) granted = qos;
    }
    return Math.min(packet.qos, granted);
  };
  c.deliver0 = (packet, callback) => {
    if (packet.qos > 0 && effectiveQos(packet) > 0) return setImmediate(callback);
    deliver0(packet, callback);
  };
  c.deliverQoS = (packet, callback) => {
    packet.qos = effectiveQos(packet);
    deliverQoS(packet, callback);
  };
}
