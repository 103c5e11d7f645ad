import type { MixValue } from "@amp/codec";
import type { Cell } from "@amp/machine";
import type { Session } from "../../session/session.js";
import type { Handler } from "../context.js";
import { messageValue } from "../values.js";

/**
 * Session messages: what Remix's runtime sends to get a VM and keep it.
 *
 * - `msg_session_create` (or `msg_machine_create`) is its first message on the WebSocket, with
 *   `searchExe`, `clientVars` and optionally `searchVariant` and `machine`; over HTTP
 *   (`POST /{app}/track/msg_session_create`) it opens a session for the MQTT modes. The answer
 *   carries the init cells, `session` and `machine` (the VM id).
 * - `msg_session_keepAlive {session}` is its answer to a `$keepAlive` cell: it restarts the idle timer.
 * - `msg_session_destroy {session}` when it goes away; `msg_session_list` lists the user's sessions of the app.
 * - `msg_vm_configure {session?, load?}`: creates a session when none is named, then loads a screen.
 */

/** The `machine` values of `msg_session_create` that ask for a server VM driven over MQTT. */
export const SERVER_MACHINES: ReadonlySet<string> = new Set(["server", "server_g"]);

/** A new session and its VM: the init cells answer this request (pushed first on a WebSocket). */
export const create: Handler<"msg_session_create" | "msg_machine_create"> = async (m, conn, ctx) => {
  const cells: Cell[] = [];
  const { session, init } = await ctx.sessions.create({
    user: conn.user,
    token: conn.token,
    app: conn.app,
    variant: m.searchVariant ?? "WASM",
    clientVars: m.clientVars as Record<string, MixValue> | undefined,
    sink: conn.sink,
  });
  conn.sessions?.add(session.id);
  if (!conn.sink && m.machine !== undefined && SERVER_MACHINES.has(m.machine) && ctx.serverMachines) {
    // Init cells still answer this request; later pushes go to the client's MQTT topics.
    ctx.sessions.attach(session, ctx.serverMachines.sinkFor(session));
  }
  if (!conn.sink) cells.push(...init.cells);
  else for (const cell of init.cells) conn.sink.send(ctx.cellResponse(session, cell));
  return ctx.finish(session, m._rmx_type, m._rmx_echo, init, cells);
};

export const destroy: Handler<"msg_session_destroy"> = async (m, conn, ctx) => {
  ctx.sessions.get(m.session, conn.user);
  await ctx.sessions.destroy(m.session);
  conn.sessions?.delete(m.session);
  return ctx.response(m.session, "", m._rmx_type, m._rmx_echo);
};

export const keepAlive: Handler<"msg_session_keepAlive"> = (m, conn, ctx) => {
  const session = ctx.session(m.session, conn);
  return ctx.response(session.id, session.machine.id, m._rmx_type, m._rmx_echo);
};

export const list: Handler<"msg_session_list"> = (m, conn, ctx) => {
  const r = ctx.response("", "", m._rmx_type, m._rmx_echo);
  r.result = ctx.sessions.list(conn.user).filter((s) => s.app === conn.app);
  return r;
};

export const configure: Handler<"msg_vm_configure"> = async (m, conn, ctx) => {
  let session: Session;
  if (m.session === undefined) {
    ({ session } = await ctx.sessions.create({
      user: conn.user,
      token: conn.token,
      app: conn.app,
      clientVars: m.clientVars as Record<string, MixValue> | undefined,
      sink: conn.sink,
    }));
    conn.sessions?.add(session.id);
  } else {
    session = ctx.session(m.session, conn);
  }
  if (m.load === undefined) return ctx.response(session.id, session.machine.id, m._rmx_type, m._rmx_echo);
  return ctx.run(session, "load", [m.load.screen, messageValue(m.load.params, false)], m, conn);
};
