import type { Apps } from "@amp/apps";
import { GrooveboxPool } from "@amp/machine";
import { MqttTrack, OutboundHttp, SessionManager, TrackProtocol, Transforms } from "@amp/track";
import { trackRoutes } from "@amp/track/http";
import type { Logger } from "pino";
import type { ServerConfig } from "../config/schema.js";
import type { Component } from "../lifecycle/component.js";
import type { Messaging } from "./messaging.js";
import { publicUrl, type Security } from "./security.js";

/**
 * VM sessions: the Groovebox pool (when `--groovebox` names a build), the session manager with
 * its FFIs on the real stores, and the track protocol over `/{app}/track.ws` and `/{app}/track`.
 */
export async function openSessions(
  config: ServerConfig,
  logger: Logger,
  security: Security,
  apps: Apps,
  messaging: Messaging,
): Promise<Component> {
  const log = logger.child({ component: "track" });
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
    baseURL: publicUrl(config),
    sessionTimeoutMs: config.sessionTimeoutMs,
    vmOwners: messaging.broker.vmOwners,
    ...(pool ? { pool } : {}),
    ffi: {
      outbound,
      secrets: security.secrets,
      tokens: security.tokens,
      mqtt: {
        bus: messaging.broker,
        allows: (user, action, topic) => messaging.broker.allows(user, action, topic),
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
  const protocol = new TrackProtocol({ sessions, logger: log, compiler: messaging.compiler });
  const transforms = new Transforms({ sessions, logger: log });
  // Remix's runtime in vm-init="server:mqtt" / "server:groovebox" drives its session over the broker.
  const mqttTrack = new MqttTrack({
    protocol,
    bus: messaging.broker,
    logger: log,
    sessionOwners: messaging.broker.sessionOwners,
  });
  await mqttTrack.start();
  return {
    name: "track",
    routes: [
      { path: "/", app: trackRoutes({ protocol, transforms, logger: log, ...(proxy ? { proxy } : {}) }) },
    ],
    async stop() {
      await mqttTrack.close();
      await transforms.close();
      await sessions.close();
      await pool?.close();
    },
  };
}
