import type { MixValue } from "@amp/codec";
import type { LocalAnswer } from "../groovebox/protocol.js";
import type { FfiHandler } from "./registry.js";

const answerNull: FfiHandler = () => null;
const answerFirstArg: FfiHandler = (args): MixValue => args[0];
const answerEmptyList: FfiHandler = (): MixValue => [];

/**
 * The standard hooks' answers do not depend on the session, so a backend may give
 * them without a trip to the host (the Groovebox worker answers them in place).
 */
const LOCAL_ANSWERS = new Map<FfiHandler, LocalAnswer>([
  [answerNull, "null"],
  [answerFirstArg, "firstArg"],
  [answerEmptyList, "emptyList"],
]);

/** How a backend may answer `handler` itself, when it is one of `standardHooks()`. */
export function localAnswerOf(handler: FfiHandler | undefined): LocalAnswer | undefined {
  return handler === undefined ? undefined : LOCAL_ANSWERS.get(handler);
}

/**
 * The view-lifecycle hooks every real app calls on load and on taps, answered the
 * way a server without client-side resources must: they acknowledge with null.
 * `$decodeError` returns its argument (no source maps on the server). Aborting any
 * of these at init time is fatal to the app, so a machine should always have them.
 *
 * `$outputWithVersion`, `$outputError`, `$log`, `$isSyncEnabled` and `$mqtt_available`
 * are answered by the machine itself (they become events or read the init environment).
 */
export function standardHooks(): Record<string, FfiHandler> {
  return {
    $destroyHook: answerNull,
    $hideHook: answerNull,
    $showHook: answerNull,
    $loadHook: answerNull,
    $flush: answerNull,
    $freeResources: answerNull,
    $decodeError: answerFirstArg,
    get_backtrace: answerEmptyList,
  };
}

/** FFIs the machine answers itself, before consulting the registry. */
export const MACHINE_FFIS = [
  "$outputWithVersion",
  "$outputError",
  "$log",
  "$isSyncEnabled",
  "$mqtt_available",
] as const;
