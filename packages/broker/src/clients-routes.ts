import type { AmpUser } from "@amp/auth";
import { edgeApp, errorResponse, errorResponses, httpError, jsonResponse } from "@amp/http-edge";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Env } from "hono";
import type { Logger } from "pino";
import type { Broker } from "./broker.js";

interface ClientsEnv extends Env {
  Variables: { user: AmpUser };
}

/** A client connected to a node, as `GET /x/broker/clients` lists it (and another node answers it). */
export const NodeClientSchema = z
  .object({
    clientId: z.string(),
    user: z.string().optional().openapi({ description: "absent while the client authenticates" }),
    since: z.string().openapi({ format: "date-time" }),
    subscriptions: z.array(z.string()),
    node: z.string().openapi({
      description: "the node the client is connected to (`local` on a single node without a node id)",
    }),
  })
  .openapi("ConnectedClient");

export type NodeClient = z.infer<typeof NodeClientSchema>;

/** The other nodes' clients: what they answered (already checked against `NodeClientSchema`). */
export interface OtherNodesClients {
  clients: NodeClient[];
  /** How many nodes did not answer in time (their clients are missing). */
  unanswered: number;
}

export interface BrokerClientsRoutesOptions {
  broker: Pick<Broker, "clients">;
  /** This node's id: each of its clients' `node`. */
  node: string;
  /**
   * Among several nodes: the others' clients for `user` (root), each node answering with
   * `nodeClients` for the user this node verified. Its error (an `HttpError`: the relay's
   * `Track-relayTimeout`, 504) is the route's answer.
   */
  others?: (user: AmpUser) => Promise<OtherNodesClients>;
  logger: Logger;
}

const ClientsSchema = z
  .object({
    clients: z.array(NodeClientSchema),
    unanswered: z.number().int().min(0).optional().openapi({
      description:
        "among several nodes: how many nodes did not answer within 2 s; their clients are missing from the list. Absent on a single node",
    }),
  })
  .openapi("ConnectedClients");

/**
 * This node's clients as `user` may see them: all for root, none for anyone else (a client id
 * and a topic can say more than their owner would want others to know). The route's rule, and
 * the answer a node gives another node's question for the user that node verified.
 */
export function nodeClients(
  broker: Pick<Broker, "clients">,
  node: string,
  user: AmpUser | undefined,
): NodeClient[] {
  if (user?.root !== true) return [];
  return broker
    .clients()
    .map(({ user, ...rest }) => (user === undefined ? { ...rest, node } : { ...rest, user, node }));
}

/**
 * `GET /x/broker/clients`: the MQTT clients connected to this node (and, with `others`, to
 * every node), their users, since when and their subscriptions, for root only. After
 * `@amp/auth`'s middleware, which puts the user on the request.
 */
export function brokerClientsRoutes(options: BrokerClientsRoutesOptions): OpenAPIHono<ClientsEnv> {
  const router = edgeApp<ClientsEnv>({ logger: options.logger, scope: "broker" });
  router.openapi(
    createRoute({
      method: "get",
      path: "/x/broker/clients",
      summary: "MQTT clients connected to every node, oldest first (root only)",
      responses: {
        200: jsonResponse("Clients", ClientsSchema),
        ...errorResponses(401, 403),
        504: errorResponse("Among several nodes: the other nodes could not be asked (Redis is unreachable)"),
      },
    }),
    async (c) => {
      const user = c.get("user");
      if (user?.root !== true) throw httpError("forbidden", "only root sees the broker's clients");
      const here = nodeClients(options.broker, options.node, user);
      const others = await options.others?.(user);
      // Stable: a node's clients that connected in the same millisecond keep their order.
      const clients = [...here, ...(others?.clients ?? [])].sort((a, b) =>
        a.since < b.since ? -1 : a.since > b.since ? 1 : 0,
      );
      return c.json(others ? { clients, unanswered: others.unanswered } : { clients }, 200);
    },
  );
  return router;
}
