/** Delivery options of one publish. */
export interface PublishOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
}

export interface SubscribeOptions {
  qos?: 0 | 1 | 2;
}

export type MessageHandler = (topic: string, payload: Buffer, info: { retain: boolean }) => void;

/** Stops a subscription. */
export type Unsubscribe = () => Promise<void>;

/**
 * Publish and subscribe, whatever carries them: the in-process {@link Broker} (server components,
 * no socket hop) and the networked {@link BrokerClient} both implement it, so code on top
 * (requests, the compiler bridge) runs on either.
 */
export interface MessageBus {
  /** A stable id of this endpoint, used in `_rmx_sender` / `_rmx_route`. */
  readonly clientId: string;
  publish(topic: string, payload: Uint8Array, options?: PublishOptions): Promise<void>;
  /** Resolves once the subscription is in place (retained messages then follow). */
  subscribe(filter: string, handler: MessageHandler, options?: SubscribeOptions): Promise<Unsubscribe>;
}
