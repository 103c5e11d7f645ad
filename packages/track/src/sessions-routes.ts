import type { AmpUser } from "@amp/auth";
import { edgeApp, errorResponse, errorResponses, jsonResponse } from "@amp/http-edge";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Logger } from "pino";
import type { SessionRelay } from "./cluster/relay.js";
import { SessionsAdmin } from "./cluster/sessions-admin.js";
import { TrackError } from "./errors.js";
import type { TrackEnv } from "./http.js";
import type { SessionManager } from "./session/manager.js";
import type { Transforms } from "./transforms.js";

export interface SessionsRoutesOptions {
  sessions: Pick<SessionManager, "list" | "find" | "destroy" | "directory">;
  /** Among several nodes (`TrackCluster.relay`): the routes list and end the sessions of every node. */
  relay?: Pick<SessionRelay, "endSession" | "listSessions">;
  /** Agents and their warm sessions (`GET /x/agents`); the route answers an empty list without it. */
  transforms?: Pick<Transforms, "warmAgents">;
  logger: Logger;
}

const SessionInfoSchema = z
  .object({
    id: z.string(),
    app: z.string(),
    user: z.string(),
    machine: z.string(),
    backend: z.enum(["groovebox", "native"]),
    createdAt: z.string().openapi({ format: "date-time" }),
    lastActive: z.string().openapi({ format: "date-time" }),
    attached: z.boolean().openapi({ description: "a client is connected to it now" }),
    memoryBytes: z.number().int().optional().openapi({
      description: "the VM's linear memory; absent for a native VM or one too busy to answer now",
    }),
    node: z.string().openapi({
      description: "the node holding the session's VM (`local` on a single node without a node id)",
    }),
  })
  .openapi("SessionInfo");

const SessionsListingSchema = z
  .object({
    sessions: z.array(SessionInfoSchema),
    unanswered: z.number().int().min(0).optional().openapi({
      description:
        "among several nodes: how many nodes did not answer within the list timeout (2 s); their sessions are missing from the list. Absent on a single node",
    }),
  })
  .openapi("SessionsListing");

const WarmAgentSchema = z
  .object({
    app: z.string(),
    module: z.string(),
    user: z.string().openapi({ description: "whom the agent runs for" }),
    sessions: z.array(z.string()).openapi({ description: "ids of its warm (idle) sessions" }),
  })
  .openapi("WarmAgent");

const SessionIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(100)
    .openapi({ param: { name: "id", in: "path" } }),
});

function signedIn(c: Context<TrackEnv>): AmpUser {
  const user = c.get("user");
  // Anonymous callers own no sessions worth listing and may end none.
  if (!user || user.anonymous) throw new TrackError("Track-forbidden", "sign in to see sessions");
  return user;
}

/**
 * The live VM sessions, for operators (the console's Sessions view): root sees all of them,
 * anyone else only their own; ending one is the same rule. Another user's session is "no such
 * session", as the track protocol answers it. Among several nodes both routes reach every node
 * (`SessionsAdmin`). Root also sees the agents that ran on this node and their warm sessions.
 */
export function sessionsRoutes(options: SessionsRoutesOptions): OpenAPIHono<TrackEnv> {
  const admin = new SessionsAdmin(options.sessions, options.relay);
  const router = edgeApp<TrackEnv>({ logger: options.logger, scope: "track" });
  router.openapi(
    createRoute({
      method: "get",
      path: "/x/sessions",
      summary:
        "Live VM sessions of every node (with memory and last activity): all for root, one's own for others",
      responses: {
        200: jsonResponse("Sessions", SessionsListingSchema),
        ...errorResponses(401, 403),
        504: errorResponse("Among several nodes: Redis is unreachable (`Track-relayTimeout`)"),
      },
    }),
    async (c) => c.json(await admin.list(signedIn(c)), 200),
  );
  router.openapi(
    createRoute({
      method: "get",
      path: "/x/agents",
      summary: "Agents that ran on this node and their warm sessions (root only)",
      responses: {
        200: jsonResponse("Agents", z.object({ agents: z.array(WarmAgentSchema) })),
        ...errorResponses(401, 403),
      },
    }),
    (c) => {
      if (!signedIn(c).root) throw new TrackError("Track-forbidden", "only root sees the agents");
      return c.json({ agents: options.transforms?.warmAgents() ?? [] }, 200);
    },
  );
  router.openapi(
    createRoute({
      method: "delete",
      path: "/x/sessions/{id}",
      summary: 'End a session (its VM is destroyed; its client hears "no such session")',
      request: { params: SessionIdParam },
      responses: {
        204: { description: "Ended" },
        ...errorResponses(401, 403, 404),
        504: errorResponse(
          "Among several nodes: the session's node did not answer in time, or Redis is unreachable (`Track-relayTimeout`)",
        ),
      },
    }),
    async (c) => {
      await admin.end(signedIn(c), c.req.valid("param").id);
      return c.body(null, 204);
    },
  );
  return router;
}
