/** The broker's resource limits; each has a safe default. */
export interface BrokerLimits {
  /** Largest MQTT packet accepted (remaining length), bytes. Larger: the client is closed. Default 16 MiB. */
  maxPacketBytes?: number;
  /** Inbound QoS 2 messages a client may have awaiting PUBREL. Beyond: the client is closed. Default 1000. */
  maxInflight?: number;
  /** A subscriber whose socket has not drained within this many ms is disconnected. Default 10 s. */
  drainTimeoutMs?: number;
  /** New connections per second (token bucket, burst = one second's worth). Beyond: CONNACK 3. Default 2000. */
  connectsPerSecond?: number;
  /** Packets queued from a client before its CONNECT is authenticated. Default 42. */
  queueLimit?: number;
  /** Ms a socket may stay open without sending CONNECT. Default 10 s. */
  connectTimeoutMs?: number;
}

export const defaultLimits: Required<BrokerLimits> = {
  maxPacketBytes: 16 * 1024 * 1024,
  maxInflight: 1000,
  drainTimeoutMs: 10_000,
  connectsPerSecond: 2000,
  queueLimit: 42,
  connectTimeoutMs: 10_000,
};

/** A token bucket: `take()` is true while the rate holds. */
export class RateLimiter {
  #tokens: number;
  #last = performance.now();
  constructor(private readonly perSecond: number) {
    this.#tokens = perSecond;
  }
  take(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(this.perSecond, this.#tokens + ((now - this.#last) * this.perSecond) / 1000);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** The slice of mqtt-packet's parser we hook into (aedes keeps one per client as `_parser`). */
interface PacketParser {
  packet: { length: number };
  _parseLength(): boolean;
  _emitError(error: Error): unknown;
}

/**
 * Refuses an oversized packet as soon as its fixed header is read, before its body is buffered.
 * aedes has no such option, so we wrap the length step of that client's own parser.
 */
export function guardPacketSize(client: object, maxBytes: number): void {
  const parser = (client as { _parser?: PacketParser })._parser;
  if (!parser || typeof parser._parseLength !== "function") {
    throw new Error("aedes client has no mqtt-packet parser to guard");
  }
  const parseLength = parser._parseLength;
  parser._parseLength = function guardedParseLength(this: PacketParser): boolean {
    if (!parseLength.call(this)) return false;
    if (this.packet.length > maxBytes) {
      this._emitError(new Error(`packet of ${this.packet.length} bytes exceeds the ${maxBytes}-byte limit`));
      return false;
    }
    return true;
  };
}
