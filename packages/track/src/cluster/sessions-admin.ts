import type { AmpUser } from "@amp/auth";
import { NO_SUCH_SESSION, TrackError } from "../errors.js";
import type { SessionManager } from "../session/manager.js";
import { type NodeSessionInfo, NodeSessions } from "./node-sessions.js";
import type { SessionRelay } from "./relay.js";

/** What `GET /x/sessions` answers. */
export interface SessionsListing {
  sessions: NodeSessionInfo[];
  /** Among several nodes: how many did not answer in time (their sessions are missing). */
  unanswered?: number;
}

/**
 * What the sessions admin routes do: on a single node, this node's sessions (`NodeSessions`);
 * among several nodes (`relay`), every node's, each node deciding for its own sessions.
 */
export class SessionsAdmin {
  readonly #local: NodeSessions;

  constructor(
    private readonly sessions: Pick<SessionManager, "list" | "find" | "destroy" | "directory">,
    private readonly relay?: Pick<SessionRelay, "endSession" | "listSessions">,
  ) {
    this.#local = new NodeSessions(sessions);
  }

  /** The sessions `user` may see, oldest first. */
  async list(user: AmpUser): Promise<SessionsListing> {
    const [here, others] = await Promise.all([this.#local.list(user), this.relay?.listSessions(user)]);
    const sessions = [...here, ...(others?.sessions ?? [])].sort((a, b) =>
      a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0,
    );
    return others ? { sessions, unanswered: others.unanswered } : { sessions };
  }

  /** Ends session `id` for `user` where it lives; "no such session" when it is nowhere or not theirs. */
  async end(user: AmpUser, id: string): Promise<void> {
    const ended =
      this.relay && this.sessions.find(id) === undefined
        ? await this.relay.endSession(user, id)
        : await this.#local.end(user, id);
    if (!ended) throw new TrackError("Track-noSession", NO_SUCH_SESSION);
  }
}
