import type { ActingUser, Apps, Role } from "@amp/apps";
import type { AmpUser } from "@amp/auth";
import type { MessageBus } from "@amp/broker";

/**
 * What track needs from its collaborators, as small structural types so that each can be
 * supplied by the real package (or by a test double where no real one can run).
 */

/** The part of `@amp/apps`' `Apps` track uses: ACL checks and the app's document store. */
export type TrackApps = Pick<Apps, "can" | "authorize" | "store">;

export type { ActingUser, Role };

/** MQTT for `$mqtt_*`: the in-process bus (`@amp/broker`'s `Broker`) and its topic ACL. */
export interface TrackMqtt {
  bus: MessageBus;
  /** `@amp/broker`'s `TopicAcl.allows`, so the VM has exactly its user's rights. */
  allows(user: AmpUser, action: "publish" | "subscribe", topic: string): boolean | Promise<boolean>;
}

/** Secrets for `$secret_get`: `@amp/secrets`' `Secrets` fits. */
export interface TrackSecrets {
  revealString(app: string, name: string): Promise<string | undefined>;
}

/** Token operations for `$token_*`: `@amp/auth`'s `TokenService` fits. */
export interface TrackTokens {
  /** Resolves the token's user; rejects for an invalid, expired or revoked token. */
  verify(token: string): Promise<ActingUser>;
}

/** Who owns each VM, for the broker's VM topics: `@amp/broker`'s `VmOwners` (`broker.vmOwners`) fits. */
export interface TrackVmOwners {
  set(vmID: string, userId: string): void;
  delete(vmID: string): void;
}
