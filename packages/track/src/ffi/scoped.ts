import type { MixValue } from "@amp/codec";
import type { FfiContext, FfiHandler } from "@amp/machine";
import type { Session } from "../session/session.js";
import { type SessionLookup, sessionOf } from "./args.js";

/** A handler of a session-scoped group: it gets the calling session's state of the group. */
export type ScopedFfiHandler<S> = (
  args: MixValue[],
  ctx: FfiContext,
  state: S,
  session: Session,
) => MixValue | Promise<MixValue>;

/**
 * A group of FFIs whose state belongs to one session (open sockets, loaded modules, timers).
 * The group owns that state: `prepare` makes it on the session's first call into the group,
 * `dispose` releases it when the session ends. Nothing is stored on `Session` itself.
 */
export interface SessionFfiGroup<S> {
  /** For messages and logs. */
  readonly name: string;
  prepare(session: Session): S;
  dispose(state: S): void | Promise<void>;
  readonly handlers: Readonly<Record<string, ScopedFfiHandler<S>>>;
}

/** Live per-session states of a group; `size` is what tests and introspection look at. */
export interface ScopedStates<S> {
  readonly size: number;
  get(sessionId: string): S | undefined;
}

/**
 * The group's handlers as plain FFI handlers. Each call finds the calling session, makes its
 * state on first use and registers the disposal with the session's end.
 */
export function scopedFfis<S>(
  group: SessionFfiGroup<S>,
  find: SessionLookup,
): { handlers: Record<string, FfiHandler>; states: ScopedStates<S> } {
  const states = new Map<string, S>();
  const stateOf = (session: Session): S => {
    let state = states.get(session.id);
    if (state === undefined) {
      state = group.prepare(session);
      states.set(session.id, state);
      const owned = state;
      session.onDestroy(async () => {
        states.delete(session.id);
        await group.dispose(owned);
      });
    }
    return state;
  };
  const handlers: Record<string, FfiHandler> = {};
  for (const [name, handler] of Object.entries(group.handlers)) {
    handlers[name] = (args, ctx) => {
      const session = sessionOf(find, ctx);
      return handler(args, ctx, stateOf(session), session);
    };
  }
  return {
    handlers,
    states: {
      get: (id) => states.get(id),
      get size() {
        return states.size;
      },
    },
  };
}
