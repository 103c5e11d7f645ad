import { TrackError } from "../errors.js";
import { numberOf } from "./args.js";
import type { SessionFfiGroup } from "./scoped.js";

/** Longest `$co_sleep`; the machine's FFI timeout (default 10 s) may end a sleep earlier. */
export const MAX_SLEEP_SECONDS = 60;

interface Sleeps {
  readonly timers: Map<ReturnType<typeof setTimeout>, (e: Error) => void>;
}

/**
 * `$co_sleep(seconds)` → null after that many seconds, as the reference host answers it: a
 * deferred answer (a timer), so the VM runs its other coroutines and other sessions are not
 * held up. Negative waits count as 0; more than `MAX_SLEEP_SECONDS` is refused. Timers still
 * pending when the session ends are cleared.
 */
export const sleepFfis: SessionFfiGroup<Sleeps> = {
  name: "sleep",
  prepare: () => ({ timers: new Map() }),
  dispose(state) {
    for (const [timer, fail] of state.timers) {
      clearTimeout(timer);
      fail(new Error("$co_sleep: the session ended"));
    }
    state.timers.clear();
  },
  handlers: {
    $co_sleep: (args, ctx, state) => {
      const seconds = numberOf(args[0]);
      if (seconds === undefined)
        throw new TrackError("Track-badMessage", `${ctx.name}: seconds must be a number`);
      if (seconds > MAX_SLEEP_SECONDS) {
        throw new TrackError("Track-tooLarge", `${ctx.name}: at most ${MAX_SLEEP_SECONDS} seconds`);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => {
            state.timers.delete(timer);
            resolve(null);
          },
          Math.max(0, seconds * 1000),
        );
        state.timers.set(timer, reject);
      });
    },
  },
};
