/**
 * Which user each MQTT client id belongs to. A client id names a session: its live
 * connection and, for `clean: false`, the subscriptions and QoS 1 messages queued while it
 * is away. aedes hands both to whoever connects next with that id, so without this a client
 * that knows another user's id takes over their session (and disconnects them). An id
 * belongs to the user who first connected with it, for as long as it has a live connection
 * or a persistent session; a CONNECT by anyone else is refused.
 *
 * Local to one process: a cluster (Redis persistence) shares sessions, not these claims.
 */
export class ClientIdOwners {
  readonly #owners = new Map<string, { user: string; persistent: boolean; live: Set<object> }>();

  /** Whether `user` may connect as `clientId`. */
  mayUse(clientId: string, user: string): boolean {
    const owner = this.#owners.get(clientId);
    return owner === undefined || owner.user === user;
  }

  /** Records an accepted CONNECT on `connection`; `persistent` is its `clean: false` flag. */
  claim(clientId: string, user: string, persistent: boolean, connection: object): void {
    const owner = this.#owners.get(clientId);
    const live = owner?.user === user ? owner.live : new Set<object>();
    live.add(connection);
    this.#owners.set(clientId, { user, persistent, live });
  }

  /** `connection` closed; the id is free once no connection holds it and no session persists. */
  release(clientId: string, connection: object): void {
    const owner = this.#owners.get(clientId);
    if (!owner) return;
    owner.live.delete(connection);
    if (owner.live.size === 0 && !owner.persistent) this.#owners.delete(clientId);
  }
}
