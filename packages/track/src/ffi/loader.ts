import { isMixMap, isRef, type MixMap, ref } from "@amp/codec";
import type { FfiContext, FfiHandler } from "@amp/machine";
import type { TrackApps } from "../ports.js";
import { appsError } from "../session/app-code.js";
import { type SessionLookup, sessionOf, stringArg } from "./args.js";

/** `_rmx_id` prefix `@amp/apps` gives library documents (`apps/<app>/libraries/<file>`). */
const LIBRARY_PREFIX = "_rmx_library:";
const MAX_LIBRARY_BYTES = 64 * 1024 * 1024;

/**
 * `$loader_resolveLibrary(name, variant?)` → `{name, variant, dataRef, size}` or null, and
 * `$loader_loadLibrary(name, variant?)` → the library's bytes: libraries stored in the session's app.
 */
export function loaderFfis(apps: TrackApps, find: SessionLookup): Record<string, FfiHandler> {
  const resolve = (ctx: FfiContext, name: string, variant: string) => {
    const session = sessionOf(find, ctx);
    let store: ReturnType<TrackApps["store"]>;
    try {
      store = apps.store(session.user, session.app, ["allowed_run", "allowed_agents"]);
    } catch (e) {
      appsError(e);
    }
    if (!/^[A-Za-z0-9_.$-]{1,200}$/.test(name) || !/^[A-Za-z0-9_]{1,40}$/.test(variant)) {
      throw new Error(`${ctx.name}: bad library name or variant`);
    }
    const doc = store.get(`${LIBRARY_PREFIX}${name}.${variant}`);
    if (!isMixMap(doc) || !isRef(doc.dataRef)) return undefined;
    return { store, doc };
  };
  const variantOf = (args: unknown[]) => (typeof args[1] === "string" ? args[1] : "WASM");
  return {
    $loader_resolveLibrary: (args, ctx) => {
      const name = stringArg(args, 0, ctx.name, "library name");
      const found = resolve(ctx, name, variantOf(args));
      if (!found) return null;
      const { doc } = found;
      return {
        name,
        variant: doc.variant ?? null,
        dataRef: doc.dataRef,
        size: doc.size ?? null,
      } satisfies MixMap;
    },
    $loader_loadLibrary: async (args, ctx) => {
      const name = stringArg(args, 0, ctx.name, "library name");
      const found = resolve(ctx, name, variantOf(args));
      if (!found) throw new Error(`${ctx.name}: no library ${name} in the app`);
      const r = found.doc.dataRef;
      const id = isRef(r) ? r.value : ref(String(r)).value;
      const info = found.store.blobs.info(id);
      if (!info || info.size > MAX_LIBRARY_BYTES)
        throw new Error(`${ctx.name}: library ${name} is missing or too large`);
      return new Uint8Array(await found.store.blobs.read(id));
    },
  };
}
