import type { IncomingMessage } from "node:http";
import { createServer, type Server, type Socket } from "node:net";
import type { AmpUser } from "@amp/auth";
import {
  Aedes,
  type AedesPublishPacket,
  type AuthenticateError,
  type Client,
  type PublishPacket,
  type Subscription,
} from "aedes";
import type { Logger } from "pino";
import type { WebSocket } from "ws";
import { type AppRoles, type TokenVerifier, VmOwners } from "./access.js";
import { anonymousUser, tokenFromPassword } from "./anonymous.js";
import type { MessageBus, MessageHandler, PublishOptions, Unsubscribe } from "./bus.js";
import { type ClientChange, watchClients } from "./client-events.js";
import { ClientIdOwners } from "./client-id-owners.js";
import { redisCluster } from "./cluster.js";
import { BrokerError } from "./errors.js";
import { type BrokerLimits, defaultLimits, guardPacketSize, RateLimiter } from "./limits.js";
import { enforceSubscriptionQos } from "./subscription-qos.js";
import { TopicAcl, type TopicAclOptions, type TopicAction } from "./topic-acl.js";
import { webSocketStream } from "./websocket-stream.js";
import { batchWrites } from "./write-batching.js";

export interface BrokerOptions {
  logger: Logger;
  /**
   * Verifies the CONNECT token: amp passes its `TokenService`, the one verifier of HTTP,
   * WebSocket and MQTT, whose cache of verified tokens makes a reconnect cheap (the broker keeps none).
   */
  verifier: TokenVerifier;
  /** Roles on apps for app topics (`@amp/apps`). */
  appRoles: AppRoles;
  /** VM → session owner registry; one is created when omitted (see `broker.vmOwners`). */
  vmOwners?: VmOwners;
  /**
   * Session → owner registry for sessions' control topics `/org/<org>/ws/<ws>/app/<app>/session/<id>/…`;
   * one is created when omitted (see `broker.sessionOwners`).
   */
  sessionOwners?: VmOwners;
  /** TCP port; default 8002, 0 for an ephemeral port, null for no TCP listener. */
  port?: number | null;
  /** TCP bind address; default all interfaces. */
  host?: string;
  /** Clients without a password may connect (as `anon-<clientId>`); default true. */
  allowAnonymous?: boolean;
  /** Anonymous clients may publish where the ACL allows; default false. */
  anonymousPublish?: boolean;
  /** Further ACL settings (roles per action, server principals, org/workspace pinning). */
  acl?: Omit<TopicAclOptions, "appRoles" | "vmOwners" | "sessionOwners" | "anonymousPublish">;
  limits?: BrokerLimits;
  /** `redis://…`: share sessions, subscriptions and retained messages with other amp processes. */
  cluster?: string;
  /** Broker id (unique per process in a cluster); random by default. */
  id?: string;
}

/** A client connected to this broker, as `Broker.clients()` lists it. */
export interface ConnectedClient {
  clientId: string;
  /** The token's user; undefined for a client still authenticating. */
  user: string | undefined;
  since: string;
  subscriptions: string[];
}

/** Parts of aedes its typings leave out. */
interface AedesInternals {
  persistence: unknown;
}

const NOT_AUTHORIZED = 5;
const BAD_USERNAME_OR_PASSWORD = 4;
const SERVER_UNAVAILABLE = 3;
const IDENTIFIER_REJECTED = 2;

/** How long subscriptions outlive the end of their VM's or session's grant. */
const GRANT_END_GRACE_MS = 1000;

function refusal(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/**
 * The embedded MQTT 3.1.1 broker: aedes with token authentication, the topic ACL, limits, a TCP
 * listener and WebSocket connections (see {@link attachBrokerWebSocket}). It is also a
 * {@link MessageBus} for server components: `publish`/`subscribe` run in-process, bypass the ACL
 * (the server may use every topic) and reach every connected client.
 */
export class Broker implements MessageBus {
  readonly vmOwners: VmOwners;
  readonly sessionOwners: VmOwners;
  readonly clientId: string;
  readonly #options: BrokerOptions;
  readonly #limits: Required<BrokerLimits>;
  readonly #log: Logger;
  readonly #acl: TopicAcl;
  readonly #connectRate: RateLimiter;
  readonly #users = new WeakMap<Client, AmpUser>();
  readonly #expiryTimers = new WeakMap<Client, NodeJS.Timeout>();
  /** CONNECTs with an empty client id and clean session 0, refused with CONNACK 2 ([MQTT-3.1.3-8]). */
  readonly #emptyIdPersistent = new WeakSet<Client>();
  /** CONNECTs with clean session 0: their client id keeps its owner after they go. */
  readonly #persistentConnects = new WeakSet<Client>();
  readonly #clientIdOwners = new ClientIdOwners();
  /** Publishes the ACL refused: acknowledged to the client but never routed. */
  readonly #denied = new WeakSet<object>();
  #messagesPublished = 0;
  #aedes: Aedes | undefined;
  #tcp: Server | undefined;
  readonly #sockets = new Set<Socket>();
  /** Clients connected to this process, to drop subscriptions whose grant ended. */
  readonly #clients = new Set<Client>();
  readonly #connectedAt = new WeakMap<Client, number>();
  readonly #clientListeners = new Set<(change: ClientChange, client: ConnectedClient) => void>();

  constructor(options: BrokerOptions) {
    this.#options = options;
    this.#limits = { ...defaultLimits, ...options.limits };
    this.#log = options.logger.child({ component: "broker" });
    this.vmOwners = options.vmOwners ?? new VmOwners();
    this.sessionOwners = options.sessionOwners ?? new VmOwners();
    this.#acl = new TopicAcl({
      ...options.acl,
      appRoles: options.appRoles,
      vmOwners: this.vmOwners,
      sessionOwners: this.sessionOwners,
      anonymousPublish: options.anonymousPublish ?? false,
    });
    // A VM's or a session's topics are its owner's only while it lives: once the grant ends,
    // subscriptions made under it go too, after a moment in which the server's last word on
    // them (a "session timed out" notice) still reaches the owner.
    this.vmOwners.onDelete((id) =>
      this.#dropSubscriptionsSoon((levels) => levels[5] === "vm" && levels[6] === id),
    );
    this.sessionOwners.onDelete((id) =>
      this.#dropSubscriptionsSoon((levels) => levels[7] === "session" && levels[8] === id),
    );
    this.#connectRate = new RateLimiter(this.#limits.connectsPerSecond);
    this.clientId = `amp-server-${options.id ?? process.pid}`;
  }

  /** Starts aedes and the TCP listener; resolves with the bound TCP port (undefined without one). */
  async start(): Promise<{ port: number | undefined }> {
    const cluster = this.#options.cluster
      ? redisCluster(this.#options.cluster, (err) =>
          this.#log.warn({ err: err.message }, "broker: Redis connection error (reconnecting)"),
        )
      : undefined;
    const aedes = await Aedes.createBroker({
      id: this.#options.id,
      mq: cluster?.mq,
      persistence: cluster?.persistence,
      drainTimeout: this.#limits.drainTimeoutMs,
      maxInflightInbound: this.#limits.maxInflight,
      queueLimit: this.#limits.queueLimit,
      connectTimeout: this.#limits.connectTimeoutMs,
      preConnect: (client, packet, done) => {
        if (packet.clientId === "" && !packet.clean) this.#emptyIdPersistent.add(client);
        if (!packet.clean) this.#persistentConnects.add(client);
        done(null, true);
      },
      authenticate: (client, username, password, done) =>
        this.#authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => this.#authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => this.#authorizeSubscribe(client, sub, done),
    });
    this.#aedes = aedes;
    // A refused publish is acknowledged (MQTT 3.1.1 has no way to say no) but never routed.
    type Done = (error?: Error) => void;
    type RawPublish = (packet: PublishPacket, client: Client | null | Done, done?: Done) => void;
    const publish = aedes.publish.bind(aedes) as unknown as RawPublish;
    const guarded: RawPublish = (packet, client, done) => {
      if (!this.#denied.has(packet)) {
        if (!packet.topic.startsWith("$SYS/")) this.#messagesPublished++;
        return publish(packet, client, done);
      }
      (typeof client === "function" ? client : done)?.();
    };
    (aedes as unknown as { publish: RawPublish }).publish = guarded;
    aedes.on("clientError", (client, error) =>
      this.#log.debug({ clientId: client.id, err: error.message }, "client error; closing that client"),
    );
    aedes.on("connectionError", (client, error) =>
      this.#log.debug({ clientId: client.id, err: error.message }, "connection error"),
    );
    watchClients(aedes, (change, client) => {
      for (const listener of this.#clientListeners) listener(change, this.#describe(client));
    });
    aedes.on("client", (client) => {
      this.#clients.add(client);
      this.#connectedAt.set(client, Date.now());
    });
    aedes.on("clientDisconnect", (client) => {
      this.#clients.delete(client);
      clearTimeout(this.#expiryTimers.get(client));
      this.#clientIdOwners.release(client.id, client);
    });

    const port = this.#options.port === undefined ? 8002 : this.#options.port;
    if (port === null) return { port: undefined };
    const tcp = createServer((socket) => {
      this.#sockets.add(socket);
      socket.once("close", () => this.#sockets.delete(socket));
      socket.setNoDelay(true);
      batchWrites(socket);
      this.#accept(socket);
    });
    this.#tcp = tcp;
    await new Promise<void>((resolve, reject) => {
      tcp.once("error", reject);
      tcp.listen(port, this.#options.host, () => {
        tcp.off("error", reject);
        resolve();
      });
    });
    const { address, port: bound } = tcp.address() as { address: string; port: number };
    this.#log.info({ address, port: bound, cluster: Boolean(cluster) }, "MQTT broker listening");
    return { port: bound };
  }

  /** The bound TCP port. */
  get port(): number | undefined {
    const address = this.#tcp?.address();
    return address && typeof address === "object" ? address.port : undefined;
  }

  /**
   * Whether `user` may publish to or subscribe to `topic` under this broker's ACL: what in-process
   * callers acting for a user (a VM's `$mqtt_*` FFIs) check before they use the bus.
   */
  allows(user: AmpUser, action: TopicAction, topic: string): boolean | Promise<boolean> {
    return this.#acl.allows(user, action, topic);
  }

  /** Clients connected to this process. */
  get connectedClients(): number {
    return this.#aedes?.connectedClients ?? 0;
  }

  /**
   * Messages published through this process since start, by its clients and in-process callers
   * (refused ones and the broker's own `$SYS/` heartbeats not counted; a cluster's other nodes'
   * messages are theirs).
   */
  get messagesPublished(): number {
    return this.#messagesPublished;
  }

  /** Who is connected to this process, since when, and to what they subscribed (for operators). */
  clients(): ConnectedClient[] {
    return [...this.#clients].map((client) => this.#describe(client));
  }

  /** Calls `listener` when a client of this process connects, goes, subscribes or unsubscribes. */
  onClientChange(listener: (change: ClientChange, client: ConnectedClient) => void): () => void {
    this.#clientListeners.add(listener);
    return () => this.#clientListeners.delete(listener);
  }

  #describe(client: Client): ConnectedClient {
    return {
      clientId: client.id,
      user: this.#users.get(client)?.id,
      since: new Date(this.#connectedAt.get(client) ?? Date.now()).toISOString(),
      subscriptions: Object.keys((client as unknown as { subscriptions?: object }).subscriptions ?? {}),
    };
  }

  /** Serves one MQTT-over-WebSocket connection (e.g. from `WebSocketServer({noServer: true})`). */
  handleWebSocket(ws: WebSocket, req?: IncomingMessage): void {
    const stream = webSocketStream(ws);
    batchWrites(stream);
    this.#accept(stream, req);
  }

  #accept(conn: Parameters<Aedes["handle"]>[0], req?: IncomingMessage): void {
    const aedes = this.#requireAedes();
    const client = aedes.handle(conn, req);
    guardPacketSize(client, this.#limits.maxPacketBytes);
    enforceSubscriptionQos(client);
  }

  #requireAedes(): Aedes {
    if (!this.#aedes || this.#aedes.closed)
      throw new BrokerError("BROKER_NOT_STARTED", "broker is not running");
    return this.#aedes;
  }

  /** The user a connected client authenticated as. */
  userOf(client: Client): AmpUser | undefined {
    return this.#users.get(client);
  }

  #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    if (!this.#connectRate.take()) {
      this.#log.warn("connection rate limit reached; refusing CONNECT");
      done(refusal(SERVER_UNAVAILABLE, "connection rate limit"), false);
      return;
    }
    if (this.#emptyIdPersistent.has(client)) {
      done(refusal(IDENTIFIER_REJECTED, "empty client id needs clean session"), false);
      return;
    }
    if (!password || password.length === 0) {
      if (username) {
        done(refusal(BAD_USERNAME_OR_PASSWORD, "username without a token"), false);
        return;
      }
      if (this.#options.allowAnonymous === false) {
        done(refusal(NOT_AUTHORIZED, "anonymous clients are not allowed"), false);
        return;
      }
      this.#admit(client, anonymousUser(client.id), done);
      return;
    }
    const token = tokenFromPassword(password);
    const accept = (user: AmpUser) => {
      if (!usernameNamesUser(username, user)) {
        this.#log.info({ clientId: client.id, username }, "CONNECT username does not match the token's user");
        done(refusal(NOT_AUTHORIZED, "username does not match the token"), false);
        return;
      }
      this.#admit(client, user, done);
    };
    // Every CONNECT goes to the verifier: a revoked token is refused on the next one.
    this.#options.verifier.verify(token).then(
      (user) => accept(user),
      (error: Error) => {
        this.#log.info({ clientId: client.id, reason: error.message }, "CONNECT token refused");
        done(refusal(NOT_AUTHORIZED, "bad token"), false);
      },
    );
  }

  /** Lets an authenticated client in, unless its client id (its session) belongs to another user. */
  #admit(
    client: Client,
    user: AmpUser,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    if (!this.#clientIdOwners.mayUse(client.id, user.id)) {
      this.#log.info({ clientId: client.id, user: user.id }, "CONNECT with another user's client id refused");
      done(refusal(IDENTIFIER_REJECTED, "client id belongs to another user"), false);
      return;
    }
    this.#clientIdOwners.claim(client.id, user.id, this.#persistentConnects.has(client), client);
    this.#users.set(client, user);
    this.#closeAtExpiry(client, user);
    done(null, true);
  }

  /** After {@link GRANT_END_GRACE_MS}, unsubscribes every connected client from its filters whose levels `match`. */
  #dropSubscriptionsSoon(match: (levels: string[]) => boolean): void {
    setTimeout(() => this.#dropSubscriptions(match), GRANT_END_GRACE_MS).unref();
  }

  #dropSubscriptions(match: (levels: string[]) => boolean): void {
    for (const client of this.#clients) {
      const { subscriptions } = client as unknown as { subscriptions: Record<string, unknown> };
      const filters = Object.keys(subscriptions).filter((filter) => match(filter.split("/")));
      if (filters.length === 0) continue;
      this.#log.debug({ clientId: client.id, filters }, "grant ended; dropping its subscriptions");
      client.unsubscribe(filters as unknown as Parameters<Client["unsubscribe"]>[0], (error) => {
        if (error)
          this.#log.warn({ clientId: client.id, err: error.message }, "dropping subscriptions failed");
      });
    }
  }

  /** MQTT 3.1.1 cannot re-authenticate a live connection, so a client is closed when its token expires. */
  #closeAtExpiry(client: Client, user: AmpUser): void {
    const exp = user.claims.exp;
    if (typeof exp !== "number") return;
    const ms = Math.max(0, exp * 1000 - Date.now());
    if (ms > 2 ** 31 - 1) return;
    const timer = setTimeout(() => {
      this.#log.info({ clientId: client.id, user: user.id }, "token expired; closing client");
      client.close();
    }, ms);
    timer.unref();
    this.#expiryTimers.set(client, timer);
  }

  #authorizePublish(
    client: Client | null,
    packet: PublishPacket,
    done: (error?: Error | null) => void,
  ): void {
    if (client === null) {
      done(null); // a will published by the broker itself
      return;
    }
    const user = this.#users.get(client);
    const decide = (allowed: boolean) => {
      if (!allowed) {
        this.#denied.add(packet);
        this.#log.warn(
          { clientId: client.id, user: user?.id, topic: packet.topic },
          "publish denied; dropped",
        );
      }
      done(null);
    };
    if (!user) {
      decide(false);
      return;
    }
    const verdict = this.#acl.allows(user, "publish", packet.topic);
    if (typeof verdict === "boolean") {
      decide(verdict);
      return;
    }
    verdict.then(decide, (error: Error) => {
      this.#log.error({ err: error.message, topic: packet.topic }, "ACL check failed; denying");
      decide(false);
    });
  }

  #authorizeSubscribe(
    client: Client,
    sub: Subscription,
    done: (error: Error | null, subscription?: Subscription | null) => void,
  ): void {
    const user = this.#users.get(client);
    const decide = (allowed: boolean) => {
      if (!allowed)
        this.#log.info({ clientId: client.id, user: user?.id, topic: sub.topic }, "subscribe denied");
      done(null, allowed ? sub : null); // null → SUBACK 0x80
    };
    if (!user) {
      decide(false);
      return;
    }
    const verdict = this.#acl.allows(user, "subscribe", sub.topic);
    if (typeof verdict === "boolean") {
      decide(verdict);
      return;
    }
    verdict.then(decide, (error: Error) => {
      this.#log.error({ err: error.message, topic: sub.topic }, "ACL check failed; denying");
      decide(false);
    });
  }

  /** Publishes on behalf of the server, in-process, to every matching subscriber. */
  publish(topic: string, payload: Uint8Array, options: PublishOptions = {}): Promise<void> {
    const aedes = this.#requireAedes();
    return new Promise((resolve, reject) => {
      aedes.publish(
        {
          cmd: "publish",
          topic,
          payload: Buffer.from(payload.buffer, payload.byteOffset, payload.length),
          qos: options.qos ?? 0,
          retain: options.retain ?? false,
          dup: false,
        },
        (error) => (error ? reject(error) : resolve()),
      );
    });
  }

  /**
   * Subscribes a server component in-process. Retained messages matching the filter are delivered
   * first (flagged `retain`), then live messages.
   */
  async subscribe(filter: string, handler: MessageHandler): Promise<Unsubscribe> {
    const aedes = this.#requireAedes();
    // a throwing subscriber must not break delivery to the others
    const safely = (packet: AedesPublishPacket, retain: boolean) => {
      try {
        handler(packet.topic, packet.payload as Buffer, { retain });
      } catch (error) {
        this.#log.error(
          { err: (error as Error).message, topic: packet.topic },
          "in-process subscriber threw",
        );
      }
    };
    const deliver = (packet: AedesPublishPacket, callback: () => void) => {
      safely(packet, false);
      callback();
    };
    await new Promise<void>((resolve) => aedes.subscribe(filter, deliver, resolve));
    const retained = (
      (aedes as unknown as AedesInternals).persistence as {
        createRetainedStreamCombi(p: string[]): AsyncIterable<AedesPublishPacket>;
      }
    ).createRetainedStreamCombi([filter]);
    for await (const packet of retained) safely(packet, true);
    return () => new Promise<void>((resolve) => aedes.unsubscribe(filter, deliver, resolve));
  }

  /** Closes the listener, disconnects every client and releases the cluster connections. */
  async close(): Promise<void> {
    const tcp = this.#tcp;
    this.#tcp = undefined;
    const aedes = this.#aedes;
    const closing = tcp ? new Promise<void>((resolve) => tcp.close(() => resolve())) : Promise.resolve();
    if (aedes && !aedes.closed) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closing;
    // without a callback destroy() returns a promise (with one it waits for a 'ready' that setup() never emits)
    const persistence = (aedes as unknown as AedesInternals | undefined)?.persistence as
      | { destroy?: () => Promise<void> }
      | undefined;
    if (this.#options.cluster) await persistence?.destroy?.();
  }
}

/**
 * The identity comes from the token; the CONNECT username may only confirm it. It may be
 * the user id, the token's `email` claim (Remix's web runtime sends that), or empty.
 */
function usernameNamesUser(username: string | undefined, user: AmpUser): boolean {
  if (username === undefined || username === "" || username === user.id) return true;
  const email = user.claims.email;
  return typeof email === "string" && email !== "" && username === email;
}
