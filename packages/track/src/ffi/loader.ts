import { isMixMap, isRef, type MixMap, type MixValue, ref } from "@amp/codec";
import type { FfiContext, FfiHandler } from "@amp/machine";
import type { TrackApps } from "../ports.js";
import { appsError } from "../session/app-code.js";
import type { Session } from "../session/session.js";
import { type SessionLookup, sessionOf, stringArg } from "./args.js";

/** `_rmx_id` prefix `@amp/apps` gives library documents (`apps/<app>/libraries/<file>`). */
const LIBRARY_PREFIX = "_rmx_library:";
const MAX_LIBRARY_BYTES = 64 * 1024 * 1024;
/** Libraries one session may load: each one is code in its VM for the VM's whole life. */
const MAX_LIBRARIES_PER_SESSION = 64;

/**
 * `$loader_resolveLibrary(name, variant?)` → `{name, variant, dataRef, size}` or null, and
 * `$loader_loadLibrary(name, variant?)` → null once the library stored in the session's app is
 * sent into the session's VM and linked with its initialization requested — what the Groovebox
 * JS host expects of amp: `DrvSendCode` and `DrvLinkCode` (initFlag) while the FFI is pending.
 * A library already loaded into the VM is not loaded again.
 */
export function loaderFfis(apps: TrackApps, find: SessionLookup): Record<string, FfiHandler> {
  const resolve = async (ctx: FfiContext, session: Session, name: string, variant: string) => {
    let store: Awaited<ReturnType<TrackApps["store"]>>;
    try {
      store = await apps.store(session.user, session.app, ["allowed_run", "allowed_agents"]);
    } catch (e) {
      appsError(e);
    }
    if (!/^[A-Za-z0-9_.$-]{1,200}$/.test(name) || !/^[A-Za-z0-9_]{1,40}$/.test(variant)) {
      throw new Error(`${ctx.name}: bad library name or variant`);
    }
    const doc = await store.get(`${LIBRARY_PREFIX}${name}.${variant}`);
    if (!isMixMap(doc) || !isRef(doc.dataRef)) return undefined;
    return { store, doc };
  };
  const variantOf = (args: MixValue[]) => (typeof args[1] === "string" ? args[1] : "WASM");

  const load = async (ctx: FfiContext, session: Session, name: string, variant: string) => {
    const found = await resolve(ctx, session, name, variant);
    if (!found) throw new Error(`${ctx.name}: no library ${name} in the app`);
    const r = found.doc.dataRef;
    const id = isRef(r) ? r.value : ref(String(r)).value;
    const info = await found.store.blobs.info(id);
    if (!info || info.size > MAX_LIBRARY_BYTES)
      throw new Error(`${ctx.name}: library ${name} is missing or too large`);
    const bytes = new Uint8Array(await found.store.blobs.read(id));
    // A code ID is never reused, even when a load fails half-way (sent but not linked).
    const codeID = session.nextCodeID++;
    try {
      // Allowed while this `$loader_loadLibrary` call is pending; the name is what `linkCode(…, true)` initializes.
      await ctx.machine.sendCode(codeID, bytes, name);
      await ctx.machine.linkCode(codeID, true);
    } catch (e) {
      throw new Error(`${ctx.name}: library ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  return {
    $loader_resolveLibrary: async (args, ctx) => {
      const name = stringArg(args, 0, ctx.name, "library name");
      const found = await resolve(ctx, sessionOf(find, ctx), name, variantOf(args));
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
      const variant = variantOf(args);
      const session = sessionOf(find, ctx);
      const key = `${name}.${variant}`;
      let loading = session.libraries.get(key);
      if (loading === undefined) {
        if (session.libraries.size >= MAX_LIBRARIES_PER_SESSION)
          throw new Error(`${ctx.name}: at most ${MAX_LIBRARIES_PER_SESSION} libraries per session`);
        loading = load(ctx, session, name, variant);
        session.libraries.set(key, loading);
        // A failed load may be tried again (the library may be added to the app meanwhile).
        const failed = loading;
        failed.catch(() => {
          if (session.libraries.get(key) === failed) session.libraries.delete(key);
        });
      }
      await loading;
      return null;
    },
  };
}
