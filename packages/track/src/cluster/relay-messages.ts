import { z } from "zod";

/**
 * What nodes send each other on their relay channels (`<prefix>relay:<node>`), as JSON:
 *
 * - `req`: a client message for a session the receiver holds, with the user the sending node
 *   verified (never a name the client chose) and, for a WebSocket, the sender's connection id `c`
 *   so the session's pushes can follow the client;
 * - `res`: the answer to `req` `id`;
 * - `push`: a response the session pushed (a cell, a keepAlive) for connection `c` of the receiver;
 * - `bye`: connection `c` of node `from` closed: its sessions here start their disconnect grace;
 * - `end`: end `session` as `user` (the sessions admin route's DELETE), answered by `res` `{ended}`;
 * - `list`: on the broadcast channel `<prefix>nodes`, the sessions `user` may see, answered by
 *   each node with `listed` on the asker's channel.
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

/** A session in a node's `listed` answer (`NodeSessionInfo`). */
const ListedSession = z.object({
  id: Id,
  app: z.string().max(100),
  user: z.string().max(500),
  machine: z.string().max(200),
  backend: z.enum(["groovebox", "native"]),
  createdAt: z.iso.datetime(),
  lastActive: z.iso.datetime(),
  attached: z.boolean(),
  node: Id,
  memoryBytes: z.number().int().nonnegative().optional(),
});

/** Sessions one node lists; the message's size bound (`maxBytes`) applies too. */
const MAX_LISTED = 50_000;

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
  z.object({ k: z.literal("end"), id: Id, from: Id, user: RelayedUser, session: Id }),
  z.object({ k: z.literal("list"), id: Id, from: Id, user: RelayedUser }),
  z.object({ k: z.literal("listed"), id: Id, node: Id, sessions: z.array(ListedSession).max(MAX_LISTED) }),
]);

export type RelayEnvelope = z.infer<typeof RelayEnvelope>;
