import { type LiveFeed, sessionEventsTopic } from "@amp/broker";
import type { NodeSessionInfo } from "../cluster/node-sessions.js";
import type { SessionChange, SessionManager } from "./manager.js";
import { memoryBytes } from "./memory.js";
import type { Session } from "./session.js";

/** What `$amp/sessions/<user>` carries: a session, its node and its VM's memory when known. */
export interface SessionEvent {
  type: SessionChange | "activity";
  session: NodeSessionInfo;
}

/**
 * Publishes each session's life on its owner's `$amp/sessions/<user>` topic: created and ended as
 * they happen, and activity (new last-active time and memory) at most once per `intervalMs`,
 * found by a server-side check that runs only while someone watches `$amp/…`.
 */
export class LiveSessions {
  /** Session id → the last-active time last published. */
  readonly #reported = new Map<string, number>();
  readonly #stop: () => void;
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly sessions: Pick<SessionManager, "onChange" | "describe" | "list" | "find" | "directory">,
    private readonly feed: Pick<LiveFeed, "watched" | "watchedAtAll" | "publish">,
    intervalMs = 1000,
  ) {
    this.#stop = sessions.onChange((change, session) => {
      if (change === "ended") this.#reported.delete(session.id);
      else this.#reported.set(session.id, session.lastActive);
      void this.#send(change, session);
    });
    this.#timer = setInterval(() => this.#activity(), intervalMs);
    this.#timer.unref();
  }

  #activity(): void {
    if (!this.feed.watchedAtAll) return;
    for (const { id } of this.sessions.list()) {
      const session = this.sessions.find(id);
      if (!session || this.#reported.get(id) === session.lastActive) continue;
      this.#reported.set(id, session.lastActive);
      void this.#send("activity", session);
    }
  }

  async #send(type: SessionEvent["type"], session: Session): Promise<void> {
    const topic = sessionEventsTopic(session.user.id);
    if (!this.feed.watched(topic)) return;
    const memory = type === "ended" ? undefined : await memoryBytes(session.machine);
    // Ended while its memory was read: the "ended" event is already out and must stay last.
    if (type !== "ended" && session.destroyed) return;
    const info = { ...this.sessions.describe(session), node: this.sessions.directory.nodeId };
    const event: SessionEvent = {
      type,
      session: memory === undefined ? info : { ...info, memoryBytes: memory },
    };
    this.feed.publish(topic, event);
  }

  close(): void {
    this.#stop();
    clearInterval(this.#timer);
    this.#reported.clear();
  }
}
