import type { Apps, Role } from "@amp/apps";
import type { AmpUser } from "@amp/auth";
import { type AppRole, BROKER_WS_PATH, Broker } from "@amp/broker";
import { type Compiler, CompilerClient, DisabledCompiler } from "@amp/compiler";
import { upgradeWebSocket } from "@hono/node-server";
import { Hono } from "hono";
import type { Logger } from "pino";
import type { WebSocket } from "ws";
import type { ServerConfig } from "../config/schema.js";
import type { Component } from "../lifecycle/component.js";
import type { Security } from "./security.js";

/** The broker's role names are the apps' ACL roles without their `allowed_` prefix. */
const APP_ROLE: Record<AppRole, Role> = {
  read: "allowed_read",
  run: "allowed_run",
  build: "allowed_build",
  admin: "allowed_build",
};

/** The embedded MQTT broker (TCP and `/x/broker.ws`) and the compiler bridge that runs over it. */
export interface Messaging {
  readonly broker: Broker;
  readonly compiler: Compiler;
  readonly component: Component;
}

export async function openMessaging(
  config: ServerConfig,
  logger: Logger,
  security: Security,
  apps: Apps,
): Promise<Messaging> {
  const broker = new Broker({
    logger: logger.child({ component: "broker" }),
    verifier: security.tokens,
    appRoles: { can: (user: AmpUser, app: string, role: AppRole) => apps.can(user, app, APP_ROLE[role]) },
    port: config.brokerPort,
    host: config.host,
    acl: {
      org: config.org,
      workspace: config.workspace,
      // External compiler services and VM hosts connect as one of these users to reach server topics.
      isServer: (user) => !user.anonymous && config.serverUsers.includes(user.id),
    },
  });
  // The compiler bridge subscribes through the broker, so the broker runs before anything else.
  await broker.start();
  const compiler: Compiler = config.compiler
    ? await CompilerClient.start({ bus: broker, logger: logger.child({ component: "compiler" }) })
    : new DisabledCompiler();

  const webSocket = new Hono();
  webSocket.get(
    BROKER_WS_PATH,
    upgradeWebSocket((c) => ({
      onOpen(_event, ws) {
        broker.handleWebSocket(ws.raw as WebSocket, c.env.incoming);
      },
    })),
  );
  const component: Component = {
    name: "broker",
    routes: [{ path: "/", app: webSocket }],
    async stop() {
      await compiler.close();
      await broker.close();
    },
  };
  return { broker, compiler, component };
}
