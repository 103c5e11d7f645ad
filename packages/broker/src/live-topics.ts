import type { AmpUser } from "@amp/auth";
import type { TopicAction } from "./topic-acl.js";

/**
 * Reserved topics on which the server publishes what it sees (the console's live views). Only
 * the server publishes here; clients subscribe as the ACL below allows.
 */
export const LIVE_PREFIX = "$amp/";

/** A user's sessions: created, ended, activity. The user id is URI-encoded (no `/`, `+` or `#` in a level). */
export const sessionEventsTopic = (userId: string) => `${LIVE_PREFIX}sessions/${encodeURIComponent(userId)}`;

/** Clients connecting, going, subscribing and unsubscribing (root only). */
export const BROKER_CLIENTS_TOPIC = `${LIVE_PREFIX}broker/clients`;

/** The server's log lines of one level (root only). */
export const logsTopic = (level: string) => `${LIVE_PREFIX}logs/${level}`;

/**
 * The ACL of `$amp/…`: no client publishes (root neither: what is said there is the server's);
 * root subscribes to anything; a signed-in user only to their own sessions' topic, without wildcards.
 */
export function liveTopicAllows(user: AmpUser, action: TopicAction, topic: string): boolean {
  if (action === "publish") return false;
  if (user.root) return true;
  return !user.anonymous && topic === sessionEventsTopic(user.id);
}
