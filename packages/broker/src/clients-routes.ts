import type { AmpUser } from "@amp/auth";
import { edgeApp, errorResponses, httpError, jsonResponse } from "@amp/http-edge";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Env } from "hono";
import type { Logger } from "pino";
import type { Broker } from "./broker.js";

interface ClientsEnv extends Env {
  Variables: { user: AmpUser };
}

export interface BrokerClientsRoutesOptions {
  broker: Pick<Broker, "clients">;
  logger: Logger;
}

const ConnectedClientSchema = z
  .object({
    clientId: z.string(),
    user: z.string().optional().openapi({ description: "absent while the client authenticates" }),
    since: z.string().openapi({ format: "date-time" }),
    subscriptions: z.array(z.string()),
  })
  .openapi("ConnectedClient");

/**
 * `GET /x/broker/clients`: the MQTT clients connected to this node, their users, since when and
 * their subscriptions, for root only (a client id and a topic can say more than their owner
 * would want others to know). After `@amp/auth`'s middleware, which puts the user on the request.
 */
export function brokerClientsRoutes(options: BrokerClientsRoutesOptions): OpenAPIHono<ClientsEnv> {
  const router = edgeApp<ClientsEnv>({ logger: options.logger, scope: "broker" });
  router.openapi(
    createRoute({
      method: "get",
      path: "/x/broker/clients",
      summary: "MQTT clients connected to this node (root only)",
      responses: {
        200: jsonResponse("Clients", z.object({ clients: z.array(ConnectedClientSchema) })),
        ...errorResponses(401, 403),
      },
    }),
    (c) => {
      if (c.get("user")?.root !== true) throw httpError("forbidden", "only root sees the broker's clients");
      const clients = options.broker
        .clients()
        .map(({ user, ...rest }) => (user === undefined ? rest : { ...rest, user }));
      return c.json({ clients }, 200);
    },
  );
  return router;
}
