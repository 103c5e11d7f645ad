import type { AmpUser } from "@amp/auth";
import type { AppRole, AppRoles, VmOwners } from "./access.js";
import { LIVE_PREFIX, liveTopicAllows } from "./live-topics.js";

export type TopicAction = "publish" | "subscribe";

export interface TopicAclOptions {
  appRoles: AppRoles;
  vmOwners: VmOwners;
  /**
   * Sessions whose control topics `/org/<org>/ws/<ws>/app/<app>/session/<id>/…` are their owner's
   * alone while registered (the server registers the sessions Remix's runtime drives over MQTT, which
   * it ends and keeps alive there). Other session ids follow the app's roles.
   */
  sessionOwners?: Pick<VmOwners, "get">;
  /** The role an app topic needs to subscribe (default "read") and to publish (default "run"). */
  subscribeRole?: AppRole;
  publishRole?: AppRole;
  /** Anonymous clients may publish where their roles allow (default false: never). */
  anonymousPublish?: boolean;
  /** Users that act for the server over a socket (a remote VM host, a compiler service): every topic
   * but `$`-topics, like the in-process server. Default none. */
  isServer?: (user: AmpUser) => boolean;
  /** When set, topics of another org/workspace are refused. */
  org?: string;
  workspace?: string;
}

const isWildcard = (level: string | undefined) => level === "+" || level === "#";

/**
 * The topic ACL. Deny unless a rule allows:
 * - `$amp/…` (the server's live feed) follows `liveTopicAllows`: nobody publishes there;
 * - root may do anything (and is alone on `$`-topics such as `$SYS/…`);
 * - `/org/<org>/ws/<ws>/app/<app>/…` follows the user's role on `<app>`, except that
 *   `…/app/<app>/session/<id>/…` of a registered session (`sessionOwners`) is its owner's only;
 * - server principals (`isServer`) may use every other topic;
 * - `/org/<org>/ws/<ws>/vm/<vmID>/…` is for the VM's session owner and the server only;
 * - a wildcard at or above the app / VM level is refused (it would reach other apps' topics);
 * - every other topic is refused.
 * In-process publishes from server components bypass the ACL.
 */
export class TopicAcl {
  readonly #options: TopicAclOptions;
  readonly #subscribeRole: AppRole;
  readonly #publishRole: AppRole;

  constructor(options: TopicAclOptions) {
    this.#options = options;
    this.#subscribeRole = options.subscribeRole ?? "read";
    this.#publishRole = options.publishRole ?? "run";
  }

  allows(user: AmpUser, action: TopicAction, topic: string): boolean | Promise<boolean> {
    if (topic.startsWith(LIVE_PREFIX)) return liveTopicAllows(user, action, topic);
    if (user.root) return true;
    if (action === "publish" && user.anonymous && !this.#options.anonymousPublish) return false;
    if (topic.startsWith("$")) return false;
    if (this.#options.isServer?.(user)) return true;
    // "/org/o/ws/w/app/a/…" splits into ["", "org", o, "ws", w, kind, id, …]
    const levels = topic.split("/");
    const [lead, orgKey, org, wsKey, ws, kind, id] = levels;
    if (lead !== "" || orgKey !== "org" || wsKey !== "ws" || org === undefined || ws === undefined)
      return false;
    if (isWildcard(org) || isWildcard(ws) || isWildcard(kind) || isWildcard(id) || !id) return false;
    if (this.#options.org !== undefined && org !== this.#options.org) return false;
    if (this.#options.workspace !== undefined && ws !== this.#options.workspace) return false;
    if (kind === "app") {
      const session = levels[7] === "session" ? levels[8] : undefined;
      const owner = session === undefined ? undefined : this.#options.sessionOwners?.get(session);
      if (owner !== undefined && owner !== user.id) return false;
      const role = action === "publish" ? this.#publishRole : this.#subscribeRole;
      return this.#options.appRoles.can(user, id, role);
    }
    if (kind === "vm") {
      return this.#options.vmOwners.get(id) === user.id;
    }
    return false;
  }
}
