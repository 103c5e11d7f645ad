import { brokerClientsRoutes, type NodeClient, NodeClientSchema, nodeClients } from "@amp/broker/http";
import type { RelayTopic } from "@amp/track/cluster";
import type { Logger } from "pino";
import { metricsSummaryRoutes } from "../http/metrics-summary.js";
import type { Component, ComponentContext, RouteMount } from "../lifecycle/component.js";
import type { MessagingComponent } from "./messaging.js";
import type { SessionsComponent } from "./sessions.js";

/** Among several nodes, each node's broker clients, asked of every node through the session relay. */
const BROKER_CLIENTS: RelayTopic<NodeClient> = { name: "broker-clients", items: NodeClientSchema };

/**
 * Routes the console needs that no other component serves: the broker's connected clients
 * (`GET /x/broker/clients`, every node's among several) and the figures of its charts
 * (`GET /x/metrics/summary`). They sit behind the same auth middleware as every API route.
 */
export class ConsoleRoutesComponent implements Component {
  readonly name = "console-routes";
  private metrics: ComponentContext["metrics"] | undefined;
  #stopAnswering: (() => void) | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly messaging: MessagingComponent,
    private readonly sessions: SessionsComponent,
  ) {}

  get routes(): readonly RouteMount[] {
    const logger = this.logger.child({ component: "broker" });
    const relay = this.sessions.relay;
    const clients = brokerClientsRoutes({
      broker: this.messaging.broker,
      node: this.sessions.nodeId,
      logger,
      ...(relay
        ? {
            others: async (user) => {
              const { items, unanswered } = await relay.askAll(BROKER_CLIENTS, user);
              return { clients: items, unanswered };
            },
          }
        : {}),
    });
    return [
      { path: "/", app: clients },
      ...(this.metrics ? [{ path: "/", app: metricsSummaryRoutes(this.metrics, this.logger) }] : []),
    ];
  }

  async start(context: ComponentContext): Promise<void> {
    this.metrics = context.metrics;
    const { broker } = this.messaging;
    const node = this.sessions.nodeId;
    // Another node's question is answered with this node's rule for the user it verified: root only.
    this.#stopAnswering = this.sessions.relay?.answerAll(BROKER_CLIENTS, async (user) =>
      nodeClients(broker, node, user),
    );
  }

  async stop(): Promise<void> {
    this.#stopAnswering?.();
  }
}
