import type { MixValue } from "@amp/codec";
import type { FfiHandler } from "./registry.js";

const answerNull: FfiHandler = () => null;

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
    $decodeError: (args): MixValue => args[0],
    get_backtrace: (): MixValue => [],
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
