import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { z } from "zod";
import { errorMessage } from "../errors.js";
import type { TrackVmOwners } from "../ports.js";

/** A node's own owner registry (`@amp/broker`'s `VmOwners`): what its broker's ACL reads. */
export interface LocalOwners extends TrackVmOwners {
  get(id: string): string | undefined;
}

/** `vm`: a VM's topics (`broker.vmOwners`); `session`: a session's control topic (`broker.sessionOwners`). */
export type OwnerKind = "vm" | "session";

const Change = z.object({
  op: z.enum(["set", "del"]),
  kind: z.enum(["vm", "session"]),
  id: z.string().min(1).max(200),
  user: z.string().max(500),
  node: z.string().min(1).max(200),
});
type Change = z.infer<typeof Change>;

const MAX_CHANGE_BYTES = 4096;

/**
 * The broker's owner registries, shared by every node: a VM runs on one node, but its user's MQTT
 * client may be connected to another, whose broker ACL must know who owns the VM's topics. Each
 * grant is written to `<prefix>owners:<kind>` (a hash, read by a node when it starts) and announced
 * on `<prefix>owners`; every node applies the others' grants and ends to its own registry, so the
 * ACL stays a synchronous in-memory lookup. A killed node's grants stay in the hash (their VMs are
 * gone, so they give access to topics nobody serves) until a node holding them ends them.
 */
export class SharedOwners {
  readonly #redis: Redis;
  readonly #nodeId: string;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #locals = new Map<OwnerKind, LocalOwners>();

  constructor(redis: Redis, options: { nodeId: string; prefix: string; logger: Logger }) {
    this.#redis = redis;
    this.#nodeId = options.nodeId;
    this.#prefix = options.prefix;
    this.#log = options.logger.child({ component: "shared-owners" });
  }

  /** The channel whose messages `receive` takes. */
  get channel(): string {
    return `${this.#prefix}owners`;
  }

  /**
   * Shares `local`: loads the grants other nodes made so far into it, and answers the registry the
   * session manager (`vm`) or `MqttTrack` (`session`) writes to.
   */
  async share(kind: OwnerKind, local: LocalOwners): Promise<TrackVmOwners> {
    this.#locals.set(kind, local);
    const known = await this.#redis.hgetall(this.key(kind));
    for (const [id, user] of Object.entries(known)) if (local.get(id) === undefined) local.set(id, user);
    return {
      set: (id, user) => {
        local.set(id, user);
        this.announce({ op: "set", kind, id, user, node: this.#nodeId });
      },
      delete: (id) => {
        local.delete(id);
        this.announce({ op: "del", kind, id, user: "", node: this.#nodeId });
      },
    };
  }

  /** A change another node announced (a message on `channel`). */
  receive(text: string): void {
    let change: Change;
    try {
      if (text.length > MAX_CHANGE_BYTES) throw new Error("too large");
      change = Change.parse(JSON.parse(text));
    } catch (e) {
      this.#log.warn({ err: errorMessage(e) }, "bad owner change; dropped");
      return;
    }
    if (change.node === this.#nodeId) return;
    const local = this.#locals.get(change.kind);
    if (change.op === "set") local?.set(change.id, change.user);
    else local?.delete(change.id);
  }

  private announce(change: Change): void {
    const key = this.key(change.kind);
    const batch = this.#redis.multi();
    if (change.op === "set") batch.hset(key, change.id, change.user);
    else batch.hdel(key, change.id);
    batch.publish(this.channel, JSON.stringify(change));
    batch
      .exec()
      .catch((e) => this.#log.warn({ err: errorMessage(e), id: change.id }, "owner change not shared"));
  }

  private key(kind: OwnerKind): string {
    return `${this.#prefix}owners:${kind}`;
  }
}
