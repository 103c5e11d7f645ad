import { hostname } from "node:os";
import type { Apps, Role } from "@amp/apps";
import type { AmpUser } from "@amp/auth";
import { type AppRole, BROKER_WS_PATH, Broker, type TokenVerifier } from "@amp/broker";
import { type Compiler, CompilerClient, DisabledCompiler } from "@amp/compiler";
import { errorResponses } from "@amp/http-edge";
import { upgradeWebSocket } from "@hono/node-server";
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Logger } from "pino";
import type { WebSocket } from "ws";
import type { ServerConfig } from "../config/schema.js";
import type { Component, ComponentContext, RouteMount } from "../lifecycle/component.js";
import type { DataComponent } from "./data.js";
import { registerBrokerGauges } from "./live-gauges.js";
import type { SecurityComponent } from "./security.js";
import { started } from "./started.js";

/** The broker's role names are the apps' ACL roles without their `allowed_` prefix. */
const APP_ROLE: Record<AppRole, Role> = {
  read: "allowed_read",
  run: "allowed_run",
  build: "allowed_build",
  admin: "allowed_build",
};

/** The embedded MQTT broker (TCP and `/x/broker.ws`) and the compiler bridge that runs over it. */
export class MessagingComponent implements Component {
  readonly name = "broker";
  #open: Awaited<ReturnType<typeof openMessaging>> | undefined;

  constructor(
    private readonly config: ServerConfig,
    private readonly logger: Logger,
    private readonly security: SecurityComponent,
    private readonly data: DataComponent,
  ) {}

  get broker(): Broker {
    return started(this.#open, this.name).broker;
  }

  get compiler(): Compiler {
    return started(this.#open, this.name).compiler;
  }

  /** This node's id among several (with `--redis-url`): the broker's id, the session relay's channel. */
  get nodeId(): string | undefined {
    return started(this.#open, this.name).nodeId;
  }

  get routes(): readonly RouteMount[] {
    return this.#open?.routes ?? [];
  }

  async start(context: ComponentContext): Promise<void> {
    // The default node id (hostname and bound port) names the broker only among several nodes;
    // alone, the broker keeps its random id as before.
    const nodeId =
      this.config.nodeId ??
      (this.config.redisUrl ? `${hostname()}:${context.addresses.http.port}` : undefined);
    this.#open = await openMessaging(this.config, this.logger, this.security.tokens, this.data.apps, nodeId);
    registerBrokerGauges(context.metrics, this.#open.broker);
  }

  async stop(): Promise<void> {
    await this.#open?.compiler.close();
    await this.#open?.broker.close();
  }
}

async function openMessaging(
  config: ServerConfig,
  logger: Logger,
  verifier: TokenVerifier,
  apps: Apps,
  nodeId: string | undefined,
) {
  const broker = new Broker({
    // With --redis-url: aedes' Redis backends share retained messages, QoS 1 sessions and
    // subscriptions with the other nodes; the node id is this broker's id among them.
    ...(nodeId ? { id: nodeId } : {}),
    ...(config.redisUrl ? { cluster: config.redisUrl } : {}),
    logger: logger.child({ component: "broker" }),
    verifier,
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

  const webSocket = new OpenAPIHono();
  webSocket.openAPIRegistry.registerPath({
    method: "get",
    path: BROKER_WS_PATH,
    summary: "Open an MQTT 3.1.1 connection over WebSocket",
    description:
      "The embedded broker (subprotocol `mqtt`). CONNECT with the password `Bearer <token>` and, as username, the token's user or its `email` claim, or none; anonymous clients may subscribe where the ACL allows, never publish. Remix's web runtime drives its `server:mqtt` sessions here.",
    responses: {
      101: { description: "Switching to the WebSocket protocol" },
      ...errorResponses(403),
    },
  });
  webSocket.get(
    BROKER_WS_PATH,
    upgradeWebSocket((c) => ({
      onOpen(_event, ws) {
        broker.handleWebSocket(ws.raw as WebSocket, c.env.incoming);
      },
    })),
  );
  return { broker, compiler, nodeId, routes: [{ path: "/", app: webSocket }] };
}
