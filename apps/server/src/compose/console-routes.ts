import { brokerClientsRoutes } from "@amp/broker/http";
import type { Logger } from "pino";
import { metricsSummaryRoutes } from "../http/metrics-summary.js";
import type { Component, ComponentContext, RouteMount } from "../lifecycle/component.js";
import type { MessagingComponent } from "./messaging.js";

/**
 * Routes the console needs that no other component serves: the broker's connected clients
 * (`GET /x/broker/clients`) and the figures of its charts (`GET /x/metrics/summary`). They sit
 * behind the same auth middleware as every API route.
 */
export class ConsoleRoutesComponent implements Component {
  readonly name = "console-routes";
  private metrics: ComponentContext["metrics"] | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly messaging: MessagingComponent,
  ) {}

  get routes(): readonly RouteMount[] {
    const logger = this.logger.child({ component: "broker" });
    return [
      { path: "/", app: brokerClientsRoutes({ broker: this.messaging.broker, logger }) },
      ...(this.metrics ? [{ path: "/", app: metricsSummaryRoutes(this.metrics, this.logger) }] : []),
    ];
  }

  async start(context: ComponentContext): Promise<void> {
    this.metrics = context.metrics;
  }
}
