import type { MixValue } from "@amp/codec";
import type { Handler, ProtocolContext, TrackConnection } from "../context.js";
import type { MessageOf } from "../messages.js";
import type { TrackResponse } from "../response.js";
import { messageValue } from "../values.js";

/**
 * View messages: what Remix's runtime sends while a user looks at and taps a screen. Each one
 * enters the session's VM at an entry tag (the reference's entry tags table); the cells the VM
 * produces come back as `cellMessages` — pushed one `msg_response` each as produced on a
 * WebSocket or MQTT, collected into the answer over HTTP — then the answer (`responseTo`,
 * `_rmx_echo`) ends the interaction.
 *
 * - `msg_view_load|push {session, module, args, argsEscEnabled}` → `load|push [module, args]`
 * - `msg_view_invoke {name, env, arg, argEscEnabled, nextActions, options}` (a tap) → `invoke3`
 * - `msg_view_input {name, value, valueEscEnabled}` → `input`
 * - `msg_view_pop|reset|refresh` → `pop|reset|refresh []`
 * - `msg_view_poll`: waits until the session's queued interactions are done.
 */

type ViewType =
  | "msg_view_load"
  | "msg_view_push"
  | "msg_view_invoke"
  | "msg_view_input"
  | "msg_view_pop"
  | "msg_view_reset"
  | "msg_view_refresh";

/** The entry tag of each view message. */
const VIEW_TAGS: Record<ViewType, string> = {
  msg_view_load: "load",
  msg_view_push: "push",
  msg_view_invoke: "invoke3",
  msg_view_input: "input",
  msg_view_pop: "pop",
  msg_view_reset: "reset",
  msg_view_refresh: "refresh",
};

/** The entry tags the protocol enters (what `msg_introspect_entries` lists). */
export const ENTRY_TAGS = ["load", "push", "invoke3", "input", "pop", "reset", "refresh"];

/** Enters the message's entry tag in its session's VM; `args` are converted before the session is looked up. */
function enter(
  m: MessageOf<ViewType>,
  conn: TrackConnection,
  ctx: ProtocolContext,
  args: MixValue,
): Promise<TrackResponse> {
  const session = ctx.session(m.session, conn);
  return ctx.run(session, VIEW_TAGS[m._rmx_type], args, m, conn);
}

export const loadOrPush: Handler<"msg_view_load" | "msg_view_push"> = (m, conn, ctx) =>
  enter(m, conn, ctx, [m.module, messageValue(m.args ?? [], m.argsEscEnabled)]);

/** A tap: the action's name, the client's env, its argument, the next actions and options. */
export const invoke: Handler<"msg_view_invoke"> = (m, conn, ctx) =>
  enter(m, conn, ctx, [
    m.name,
    messageValue(m.env ?? null, false),
    messageValue(m.arg ?? null, m.argEscEnabled),
    messageValue(m.nextActions ?? [], true),
    messageValue(m.options ?? {}, false),
  ]);

export const input: Handler<"msg_view_input"> = (m, conn, ctx) =>
  enter(m, conn, ctx, [m.name, messageValue(m.value ?? null, m.valueEscEnabled)]);

export const navigate: Handler<"msg_view_pop" | "msg_view_reset" | "msg_view_refresh"> = (m, conn, ctx) =>
  enter(m, conn, ctx, []);

/** The VM pushes cells as it goes; a poll only waits until queued interactions are done. */
export const poll: Handler<"msg_view_poll"> = async (m, conn, ctx) => {
  const session = ctx.session(m.session, conn);
  await session.run(async () => undefined);
  return ctx.response(session.id, session.machine.id, m._rmx_type, m._rmx_echo);
};
