import { z } from "zod";

/**
 * What nodes send each other on their relay channels (`<prefix>relay:<node>`), as JSON:
 *
 * - `req`: a client message for a session the receiver holds, with the user the sending node
 *   verified (never a name the client chose) and, for a WebSocket, the sender's connection id `c`
 *   so the session's pushes can follow the client;
 * - `res`: the answer to `req` `id`;
 * - `push`: a response the session pushed (a cell, a keepAlive) for connection `c` of the receiver;
 * - `bye`: connection `c` of node `from` closed: its sessions here start their disconnect grace.
 *
 * The channels are internal: only processes holding the Redis URL reach them, never a client.
 */

const Id = z.string().min(1).max(200);
const Response = z.record(z.string(), z.unknown());

const RelayedUser = z.object({
  id: z.string().min(1).max(500),
  anonymous: z.boolean(),
  root: z.boolean(),
  roles: z.array(z.string().max(500)).max(100).readonly().optional(),
  claims: z.record(z.string(), z.unknown()),
});

export const RelayEnvelope = z.discriminatedUnion("k", [
  z.object({
    k: z.literal("req"),
    id: Id,
    from: Id,
    c: Id.optional(),
    user: RelayedUser,
    token: z.string().max(16 * 1024),
    app: z.string().min(1).max(100),
    m: z.unknown(),
  }),
  z.object({ k: z.literal("res"), id: Id, r: Response }),
  z.object({ k: z.literal("push"), c: Id, r: Response }),
  z.object({ k: z.literal("bye"), from: Id, c: Id }),
]);

export type RelayEnvelope = z.infer<typeof RelayEnvelope>;
