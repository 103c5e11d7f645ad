import { brokerClientsRoutes } from "@amp/broker/http";
import type { Logger } from "pino";
import type { Component, RouteMount } from "../lifecycle/component.js";
import type { MessagingComponent } from "./messaging.js";

/**
 * Routes the console needs that no other component serves: the broker's connected clients
 * (`GET /x/broker/clients`). They sit behind the same auth middleware as every API route.
 */
export class ConsoleRoutesComponent implements Component {
  readonly name = "console-routes";

  constructor(
    private readonly logger: Logger,
    private readonly messaging: MessagingComponent,
  ) {}

  get routes(): readonly RouteMount[] {
    const logger = this.logger.child({ component: "broker" });
    return [{ path: "/", app: brokerClientsRoutes({ broker: this.messaging.broker, logger }) }];
  }
}
