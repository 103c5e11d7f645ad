import type { Broker } from "@amp/broker";
import type { GrooveboxPool } from "@amp/machine";
import type { SessionManager } from "@amp/track";
import { Counter, Gauge, type Registry } from "prom-client";

/** Gauge names the console's Server view charts (through `GET /x/metrics/summary`). */
export const LIVE_GAUGES = {
  sessions: "amp_sessions_live",
  vmMemory: "amp_vm_memory_bytes",
  brokerClients: "amp_broker_clients",
  brokerMessages: "amp_broker_messages_total",
} as const;

/**
 * Live sessions of this node and the linear memory of its Groovebox VMs (sessions' and spares'),
 * read when the registry is collected (a scrape, or the console's summary), never on a timer.
 */
export function registerSessionGauges(
  registry: Registry,
  sessions: Pick<SessionManager, "size">,
  pool: Pick<GrooveboxPool, "memoryStats"> | undefined,
): void {
  new Gauge({
    name: LIVE_GAUGES.sessions,
    help: "VM sessions open on this node",
    registers: [registry],
    collect() {
      this.set(sessions.size);
    },
  });
  if (!pool) return;
  new Gauge({
    name: LIVE_GAUGES.vmMemory,
    help: "Linear memory of this node's Groovebox VMs, sessions' and spares'",
    registers: [registry],
    async collect() {
      const workers = await pool.memoryStats();
      this.set(workers.reduce((sum, w) => sum + w.vmLinear + w.spareLinear, 0));
    },
  });
}

/** MQTT clients connected to this node's broker, and the messages published through it. */
export function registerBrokerGauges(
  registry: Registry,
  broker: Pick<Broker, "connectedClients" | "messagesPublished">,
): void {
  new Gauge({
    name: LIVE_GAUGES.brokerClients,
    help: "MQTT clients connected to this node's broker",
    registers: [registry],
    collect() {
      this.set(broker.connectedClients);
    },
  });
  new Counter({
    name: LIVE_GAUGES.brokerMessages,
    help: "Messages published through this node's broker since start ($SYS/ and refused ones not counted)",
    registers: [registry],
    collect() {
      // The broker keeps the count; the counter takes it as it is at collection.
      this.reset();
      this.inc(broker.messagesPublished);
    },
  });
}
