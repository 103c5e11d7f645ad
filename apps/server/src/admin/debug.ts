import { Session } from "node:inspector/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import type { Logger } from "pino";
import { ErrorBodySchema, HttpError } from "../http/errors.js";
import type { AdminAuthorizer } from "./authorize.js";

const MAX_PROFILE_SECONDS = 300;

const denied = {
  401: {
    description: "no or wrong admin credential",
    content: { "application/json": { schema: ErrorBodySchema } },
  },
  403: {
    description: "debug routes are closed",
    content: { "application/json": { schema: ErrorBodySchema } },
  },
};

const profileRoute = createRoute({
  method: "get",
  path: "/x/debug/profile",
  summary: "Record a CPU profile of the server for N seconds (a .cpuprofile for Chrome DevTools)",
  tags: ["debug"],
  request: {
    query: z.object({
      seconds: z.coerce.number().int().min(1).max(MAX_PROFILE_SECONDS).default(10),
    }),
  },
  responses: {
    200: { description: "the profile, as JSON (application/json attachment)" },
    409: {
      description: "a profile is already running",
      content: { "application/json": { schema: ErrorBodySchema } },
    },
    ...denied,
  },
});

const heapRoute = createRoute({
  method: "get",
  path: "/x/debug/heap",
  summary: "Take a V8 heap snapshot (a .heapsnapshot for Chrome DevTools)",
  tags: ["debug"],
  responses: { 200: { description: "the snapshot, as JSON (application/json attachment)" }, ...denied },
});

/**
 * The inspector sessions the debug routes have open. Exiting while the profiler runs can
 * crash Node (SIGSEGV on Node 20), so the server disconnects them before it goes.
 */
export class InspectorSessions {
  private readonly sessions = new Set<Session>();

  open(): Session {
    const session = new Session();
    session.connect();
    this.sessions.add(session);
    return session;
  }

  close(session: Session): void {
    if (this.sessions.delete(session)) session.disconnect();
  }

  /** Synchronous, so it can run right before process.exit(). */
  closeAll(): void {
    for (const session of this.sessions) this.close(session);
  }
}

/** CPU profile and heap snapshot through node:inspector, behind `authorize`. */
export function debugRoutes(
  authorize: AdminAuthorizer,
  configured: boolean,
  logger: Logger,
  sessions: InspectorSessions,
) {
  let profiling = false;
  const app = new OpenAPIHono();
  app.use("/x/debug/*", requireAdmin(authorize, configured));

  app.openapi(profileRoute, async (c) => {
    if (profiling) throw new HttpError(409, "busy", "a CPU profile is already being recorded");
    profiling = true;
    const session = sessions.open();
    try {
      await session.post("Profiler.enable");
      await session.post("Profiler.start");
      logger.info({ seconds: c.req.valid("query").seconds }, "CPU profile started");
      // Ends early, keeping what was recorded, if the client goes away.
      await sleep(c.req.valid("query").seconds * 1000, undefined, { signal: c.req.raw.signal }).catch(
        () => {},
      );
      const { profile } = await session.post("Profiler.stop");
      return attachment(c, JSON.stringify(profile), "cpuprofile");
    } finally {
      sessions.close(session);
      profiling = false;
    }
  });

  app.openapi(heapRoute, (c) => {
    logger.info("heap snapshot requested");
    const session = sessions.open();
    const body = new ReadableStream<string>({
      async start(controller) {
        session.on("HeapProfiler.addHeapSnapshotChunk", (m) => controller.enqueue(m.params.chunk));
        try {
          await session.post("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
          controller.close();
        } catch (error) {
          controller.error(error);
        } finally {
          sessions.close(session);
        }
      },
    });
    return attachment(c, body.pipeThrough(new TextEncoderStream()), "heapsnapshot");
  });
  return app;
}

function attachment(c: Context, body: string | ReadableStream<Uint8Array>, extension: string) {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return c.body(body, 200, {
    "content-type": "application/json",
    "content-disposition": `attachment; filename="amp-${stamp}.${extension}"`,
  });
}

function requireAdmin(authorize: AdminAuthorizer, configured: boolean): MiddlewareHandler {
  return async (c, next) => {
    if (await authorize(c.req.raw)) return next();
    if (!configured) {
      throw new HttpError(403, "forbidden", "debug routes are closed: set RMX_ADMIN_TOKEN to open them");
    }
    throw new HttpError(401, "unauthenticated", "debug routes need the admin credential");
  };
}
