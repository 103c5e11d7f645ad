import { appModules } from "../../session/app-code.js";
import type { Handler } from "../context.js";
import { messageValue } from "../values.js";
import { ENTRY_TAGS } from "./view.js";

/**
 * Introspection: what Remix's runtime and its tools ask about a running session.
 *
 * - `msg_introspect_entries|state|memstats|loglevel` and `msg_vm_logMask` are answered by the
 *   server (`result`), without entering the VM.
 * - `msg_introspect_debug {command}` and `msg_introspect_spreadsheet {filter}` enter the VM at
 *   `debugCommand_out` / `spreadsheet_out`, like a view message; in `vm-init="server:groovebox"`
 *   the runtime sends `msg_introspect_debug {command: {name: "viewstack_screenFlush"}}` when it
 *   subscribes again.
 */

export const logMask: Handler<"msg_vm_logMask"> = (m, conn, ctx) => {
  const session = ctx.session(m.session, conn);
  const r = ctx.response(session.id, session.machine.id, m._rmx_type, m._rmx_echo);
  if (m.mask !== undefined) session.logMask = m.mask;
  r.result = { mask: session.logMask };
  return r;
};

export const logLevel: Handler<"msg_introspect_loglevel"> = (m, conn, ctx) => {
  const session = ctx.session(m.session, conn);
  const r = ctx.response(session.id, session.machine.id, m._rmx_type, m._rmx_echo);
  if (m.level !== undefined) session.logLevel = m.level;
  r.result = { level: session.logLevel };
  return r;
};

/** The Machine API cannot list a VM's entries; the app record lists the app's modules. */
export const entries: Handler<"msg_introspect_entries"> = async (m, conn, ctx) => {
  const session = ctx.session(m.session, conn);
  const r = ctx.response(session.id, session.machine.id, m._rmx_type, m._rmx_echo);
  const modules = await appModules(ctx.apps, session.user, session.app);
  r.result = modules === undefined ? { entries: ENTRY_TAGS } : { entries: ENTRY_TAGS, modules };
  return r;
};

export const state: Handler<"msg_introspect_state"> = (m, conn, ctx) => {
  const session = ctx.session(m.session, conn);
  const r = ctx.response(session.id, session.machine.id, m._rmx_type, m._rmx_echo);
  r.result = {
    state: session.machine.state,
    backend: session.machine.backend,
    busy: session.busy,
    createdAt: new Date(session.createdAt).toISOString(),
    lastActive: new Date(session.lastActive).toISOString(),
    timeoutMs: session.timeoutMs,
  };
  return r;
};

export const memstats: Handler<"msg_introspect_memstats"> = (m, conn, ctx) => {
  const session = ctx.session(m.session, conn);
  const r = ctx.response(session.id, session.machine.id, m._rmx_type, m._rmx_echo);
  const mem = process.memoryUsage();
  r.result = {
    sessions: ctx.sessions.size,
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    external: mem.external,
    pool: ctx.pool?.stats(),
  };
  return r;
};

export const debug: Handler<"msg_introspect_debug"> = (m, conn, ctx) => {
  const args = [messageValue(m.command ?? null, false)];
  return ctx.run(ctx.session(m.session, conn), "debugCommand_out", args, m, conn);
};

export const spreadsheet: Handler<"msg_introspect_spreadsheet"> = (m, conn, ctx) => {
  const args = [messageValue(m.filter ?? null, false)];
  return ctx.run(ctx.session(m.session, conn), "spreadsheet_out", args, m, conn);
};
