import type { Apps } from "@amp/apps";
import { GrooveboxPool } from "@amp/machine";
import {
  MqttTrack,
  OutboundHttp,
  SessionManager,
  sessionsRoutes,
  TrackProtocol,
  Transforms,
} from "@amp/track";
import type { SessionRelay } from "@amp/track/cluster";
import { trackRoutes } from "@amp/track/http";
import type { Logger } from "pino";
import type { ServerConfig } from "../config/schema.js";
import type { Component, ComponentContext, RouteMount } from "../lifecycle/component.js";
import type { DataComponent } from "./data.js";
import { registerSessionGauges } from "./live-gauges.js";
import type { MessagingComponent } from "./messaging.js";
import type { SecurityComponent } from "./security.js";
import { started } from "./started.js";

/**
 * VM sessions: the Groovebox pool (when `--groovebox` names a build), the session manager with
 * its FFIs on the real stores, and the track protocol over `/{app}/track.ws` and `/{app}/track`
 * and, for Remix's runtime in its MQTT modes, over the broker.
 */
export class SessionsComponent implements Component {
  readonly name = "track";
  #open: Awaited<ReturnType<typeof openSessions>> | undefined;

  constructor(
    private readonly config: ServerConfig,
    private readonly logger: Logger,
    private readonly parts: {
      security: SecurityComponent;
      data: DataComponent;
      messaging: MessagingComponent;
    },
  ) {}

  get routes(): readonly RouteMount[] {
    return this.#open?.routes ?? [];
  }

  /** The session manager (the console's live feed follows it). */
  get manager(): SessionManager {
    return started(this.#open, this.name).sessions;
  }

  /** This node's id as its sessions name it (`local` on a single node without a node id). */
  get nodeId(): string {
    return this.manager.directory.nodeId;
  }

  /**
   * Among several nodes (`--redis-url`): the session relay, through which other components ask
   * every node their own questions (`askAll`/`answerAll`); undefined on a single node.
   */
  get relay(): SessionRelay | undefined {
    return started(this.#open, this.name).relay;
  }

  async start(context: ComponentContext): Promise<void> {
    const { security, data, messaging } = this.parts;
    this.#open = await openSessions(this.config, this.logger, context.baseURL, {
      secrets: security.secrets,
      tokens: security.tokens,
      apps: data.apps,
      broker: messaging.broker,
      compiler: messaging.compiler,
      nodeId: messaging.nodeId,
    });
    registerSessionGauges(context.metrics, this.#open.sessions, this.#open.pool);
  }

  async stop(): Promise<void> {
    await this.#open?.stop();
  }
}

async function openSessions(
  config: ServerConfig,
  logger: Logger,
  baseURL: string,
  parts: {
    secrets: SecurityComponent["secrets"];
    tokens: SecurityComponent["tokens"];
    apps: Apps;
    broker: MessagingComponent["broker"];
    compiler: MessagingComponent["compiler"];
    nodeId: string | undefined;
  },
) {
  const { secrets, tokens, apps, broker, compiler } = parts;
  const log = logger.child({ component: "track" });
  // With --redis-url: a message for a session another node holds is relayed there through Redis.
  const cluster =
    config.redisUrl && parts.nodeId ? await openCluster(config.redisUrl, parts.nodeId, log) : undefined;
  // A user's MQTT client may sit on another node than its VM: every broker's ACL knows the owners.
  const vmOwners = cluster ? await cluster.owners.share("vm", broker.vmOwners) : broker.vmOwners;
  const sessionOwners = cluster
    ? await cluster.owners.share("session", broker.sessionOwners)
    : broker.sessionOwners;
  const pool = config.groovebox
    ? await GrooveboxPool.open({ groovebox: config.groovebox, build: config.grooveboxBuild, logger: log })
    : undefined;
  if (!pool) log.warn("no --groovebox given: only native modules can run");
  const outbound = new OutboundHttp({
    allowedHosts: config.httpAllow,
    privateHosts: config.httpAllowPrivate,
  });
  const sessions = new SessionManager({
    apps,
    logger: log,
    org: config.org,
    workspace: config.workspace,
    baseURL,
    sessionTimeoutMs: config.sessionTimeoutMs,
    vmOwners,
    ...(pool ? { pool } : {}),
    ...(cluster ? { directory: cluster.directory } : {}),
    ffi: {
      outbound,
      secrets: secrets,
      tokens: tokens,
      mqtt: {
        bus: broker,
        allows: (user, action, topic) => broker.allows(user, action, topic),
      },
    },
  });
  // The operator named these remotes, so the proxy may reach exactly their hosts, private or not.
  const remoteHosts = [...new Set(Object.values(config.proxyRemotes).map((base) => new URL(base).hostname))];
  const proxy =
    remoteHosts.length > 0
      ? {
          remotes: config.proxyRemotes,
          outbound: new OutboundHttp({ allowedHosts: remoteHosts, privateHosts: remoteHosts }),
        }
      : undefined;
  const protocol = new TrackProtocol({
    sessions,
    apps,
    pool,
    logger: log,
    compiler,
    ...(cluster ? { relay: cluster.relay } : {}),
  });
  const transforms = new Transforms({ sessions, apps, logger: log });
  // Remix's runtime in vm-init="server:mqtt" / "server:groovebox" drives its session over the broker.
  const mqttTrack = new MqttTrack({
    protocol,
    bus: broker,
    logger: log,
    sessionOwners,
  });
  await mqttTrack.start();
  return {
    sessions,
    pool,
    relay: cluster?.relay,
    routes: [
      { path: "/", app: trackRoutes({ protocol, transforms, logger: log, ...(proxy ? { proxy } : {}) }) },
      {
        path: "/",
        app: sessionsRoutes({
          sessions,
          transforms,
          logger: log,
          ...(cluster ? { relay: cluster.relay } : {}),
        }),
      },
    ],
    async stop() {
      await mqttTrack.close();
      await transforms.close();
      await sessions.close();
      await cluster?.close();
      await pool?.close();
    },
  };
}

async function openCluster(url: string, nodeId: string, log: Logger) {
  // Loaded only with --redis-url: ioredis is not part of the embedded default's start-up.
  const { TrackCluster } = await import("@amp/track/cluster");
  const cluster = await TrackCluster.connect(url, { nodeId, logger: log });
  log.info(
    { node: nodeId, heartbeatTtlMs: cluster.directory.heartbeatTtlMs },
    "sessions: directory and relay in Redis",
  );
  return cluster;
}
