/** Stable error codes of `@amp/broker`. */
export type BrokerErrorCode =
  | "BROKER_BAD_HEADER"
  | "BROKER_BAD_FRAME"
  | "BROKER_NOT_STARTED"
  | "BROKER_TIMEOUT"
  | "BROKER_CANCELLED"
  | "BROKER_DISCONNECTED"
  | "BROKER_DENIED"
  | "BROKER_BAD_TOPIC";

/** Every error this package throws carries a stable `code`. */
export class BrokerError extends Error {
  override readonly name = "BrokerError";
  constructor(
    readonly code: BrokerErrorCode,
    message: string,
  ) {
    super(message);
  }
}
