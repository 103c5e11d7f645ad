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
 * - `ask`: on the broadcast channel `<prefix>nodes`, a question for every node about `topic`
 *   (`AskAll`) as `user`, answered by each node that knows the topic with `told` on the asker's
 *   channel: its `items`, checked against the topic's own schema before they are merged.
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

/** A question's name: short and enum-like (`sessions`, `broker-clients`). */
const TopicName = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, "a topic is a short lower-case name");

/** A session in a node's answer to the `sessions` topic (`NodeSessionInfo`). */
export const ListedSession = z.object({
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

/** Items in one node's answer; the message's size bound (`maxBytes`) applies too. */
const MAX_TOLD = 50_000;

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
  z.object({ k: z.literal("ask"), id: Id, from: Id, topic: TopicName, user: RelayedUser }),
  z.object({
    k: z.literal("told"),
    id: Id,
    node: Id,
    topic: TopicName,
    items: z.array(z.unknown()).max(MAX_TOLD),
  }),
]);

export type RelayEnvelope = z.infer<typeof RelayEnvelope>;
