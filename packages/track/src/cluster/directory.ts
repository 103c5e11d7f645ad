/** Where a session lives: the node that created it, and whether that node still answers its heartbeat. */
export interface SessionWhereabouts {
  node: string;
  /** False when the node's heartbeat expired: the entry was dropped, the session is gone. */
  alive: boolean;
}

/**
 * The session directory: session id → the node holding its VM. A session's VM never moves, so
 * the entry is written once when the session is created and removed when it ends.
 *
 * Engines: {@link InProcessDirectory} (one node, the default) and `RedisSessionDirectory`
 * (several nodes on one Redis). Both pass the same conformance suite.
 */
export interface SessionDirectory {
  /** This node's id: what `lookup` answers for the sessions this node claimed. */
  readonly nodeId: string;
  /** Records that `session` lives on this node. */
  claim(session: string): Promise<void>;
  /** Forgets `session` (only when this node holds it). */
  release(session: string): Promise<void>;
  /**
   * Where `session` lives; undefined when no node holds it. An entry whose node stopped
   * answering is dropped and answered once with `alive: false`.
   */
  lookup(session: string): Promise<SessionWhereabouts | undefined>;
  /** Drops `session`'s entry if it still names `node` (the node was found gone another way). */
  drop(session: string, node: string): Promise<void>;
  close(): Promise<void>;
}

/** The directory of a single node: every session it knows is its own (today's behaviour). */
export class InProcessDirectory implements SessionDirectory {
  readonly #sessions = new Set<string>();

  constructor(readonly nodeId = "local") {}

  async claim(session: string): Promise<void> {
    this.#sessions.add(session);
  }

  async release(session: string): Promise<void> {
    this.#sessions.delete(session);
  }

  async lookup(session: string): Promise<SessionWhereabouts | undefined> {
    return this.#sessions.has(session) ? { node: this.nodeId, alive: true } : undefined;
  }

  async drop(session: string, node: string): Promise<void> {
    if (node === this.nodeId) this.#sessions.delete(session);
  }

  async close(): Promise<void> {
    this.#sessions.clear();
  }
}
