import type { AmpUser } from "@amp/auth";
import type { SessionInfo, SessionManager } from "../session/manager.js";
import { memoryBytes } from "../session/memory.js";

/** A session as the admin routes list it: where it lives, and its VM's memory when known. */
export interface NodeSessionInfo extends SessionInfo {
  /** The node holding its VM (`SessionDirectory.nodeId`: `local` on a single node). */
  node: string;
  memoryBytes?: number;
}

/**
 * This node's sessions for the sessions admin routes, with their one rule: root sees and ends any
 * session, anyone else only their own. The routes run it for a local call, and the relay for a
 * call another node verified and relayed here, so both sides decide alike.
 */
export class NodeSessions {
  constructor(private readonly sessions: Pick<SessionManager, "list" | "find" | "destroy" | "directory">) {}

  /** The sessions `user` may see here, with their VMs' memory. */
  async list(user: AmpUser): Promise<NodeSessionInfo[]> {
    const node = this.sessions.directory.nodeId;
    return Promise.all(
      this.sessions.list(user).map(async (info) => {
        const machine = this.sessions.find(info.id)?.machine;
        const memory = machine ? await memoryBytes(machine) : undefined;
        return memory === undefined ? { ...info, node } : { ...info, node, memoryBytes: memory };
      }),
    );
  }

  /** Ends session `id` for `user`; false when it is not here or not theirs ("no such session" to them). */
  async end(user: AmpUser, id: string): Promise<boolean> {
    const session = this.sessions.find(id);
    if (!session || (session.user.id !== user.id && !user.root)) return false;
    return this.sessions.destroy(id);
  }
}
