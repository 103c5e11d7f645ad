import { isMixArray } from "@amp/codec";
import { type FfiHandler, type FfiRegistry, MACHINE_FFIS } from "@amp/machine";

/**
 * `$extra_isFFI(name)` → true when this server's FFI table answers `name` itself (so the app
 * calls it through `$extra_dispatch` instead of loading `rmx_extra.wasm`), false otherwise —
 * always false in the reference host, which answers no extra function. Refused FFIs, the machine's
 * own FFIs and the `$extra_*` pair are never offered.
 *
 * `$extra_dispatch(name, args)` calls the table's handler for `name` with the list `args`, with
 * the caller's context; a name `$extra_isFFI` denies aborts, as the reference host aborts every
 * dispatch.
 */
export function extraFfis(table: FfiRegistry, refused: ReadonlySet<string>): Record<string, FfiHandler> {
  const excluded = new Set<string>([...MACHINE_FFIS, "$extra_isFFI", "$extra_dispatch", ...refused]);
  const offered = (name: unknown): name is string =>
    typeof name === "string" && !excluded.has(name) && table.has(name);
  return {
    $extra_isFFI: (args) => offered(args[0]),
    $extra_dispatch: (args, ctx) => {
      const name = args[0];
      if (!offered(name)) {
        throw new Error(`${ctx.name}: ${String(name).slice(0, 200)} is not an FFI of this server`);
      }
      const list = args[1] === undefined || args[1] === null ? [] : args[1];
      if (!isMixArray(list)) throw new Error(`${ctx.name}: the arguments must be a list`);
      return table.get(name)!(list, { ...ctx, name });
    },
  };
}
