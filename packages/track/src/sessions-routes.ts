import type { AmpUser } from "@amp/auth";
import { edgeApp, errorResponses, jsonResponse } from "@amp/http-edge";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Logger } from "pino";
import { NO_SUCH_SESSION, TrackError } from "./errors.js";
import type { TrackEnv } from "./http.js";
import type { SessionManager } from "./session/manager.js";

export interface SessionsRoutesOptions {
  sessions: Pick<SessionManager, "list" | "find" | "destroy">;
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
  })
  .openapi("SessionInfo");

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
 * The live VM sessions of this node, for operators (the console's Sessions view): root sees
 * all of them, anyone else only their own; ending one is the same rule. Another user's session
 * is "no such session", as the track protocol answers it.
 */
export function sessionsRoutes(options: SessionsRoutesOptions): OpenAPIHono<TrackEnv> {
  const { sessions } = options;
  const router = edgeApp<TrackEnv>({ logger: options.logger, scope: "track" });
  router.openapi(
    createRoute({
      method: "get",
      path: "/x/sessions",
      summary: "Live VM sessions: all for root, one's own for others",
      responses: {
        200: jsonResponse("Sessions", z.object({ sessions: z.array(SessionInfoSchema) })),
        ...errorResponses(401, 403),
      },
    }),
    (c) => c.json({ sessions: sessions.list(signedIn(c)) }, 200),
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
      },
    }),
    async (c) => {
      const user = signedIn(c);
      const { id } = c.req.valid("param");
      const session = sessions.find(id);
      if (!session || (session.user.id !== user.id && !user.root))
        throw new TrackError("Track-noSession", NO_SUCH_SESSION);
      await sessions.destroy(id);
      return c.body(null, 204);
    },
  );
  return router;
}
