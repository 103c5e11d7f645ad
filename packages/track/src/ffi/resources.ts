import { isMixMap, MixCase, type MixValue } from "@amp/codec";
import type { FfiHandler } from "@amp/machine";
import type { TrackApps } from "../ports.js";
import { type SessionLookup, sessionOf } from "./args.js";

/** Largest resource `$load_resource` hands to the VM. */
export const MAX_RESOURCE_BYTES = 16 * 1024 * 1024;

/**
 * `$load_resource(name)` → `ok(bytes)` or `error(message)`, the reference host's result case.
 * The resource is one of the session app's files from its `.remix` (`resources.json` maps a name
 * to the stored `identifier`; the stored name itself is accepted too), read with the session
 * user's rights. Anything else — a missing file, a private file the user may not read, a file over
 * `MAX_RESOURCE_BYTES` — is `error(…)`, as the reference host answers a resource it cannot fetch
 * (e.g. `rmx_extra.wasm`, which amp does not ship).
 */
export function resourceFfis(apps: TrackApps, find: SessionLookup): Record<string, FfiHandler> {
  return {
    $load_resource: async (args, ctx) => {
      const name = args[0];
      if (typeof name !== "string" || name.length === 0 || name.length > 1024) {
        return new MixCase("error", "cannot fetch resource: bad name");
      }
      const session = sessionOf(find, ctx);
      let store: Awaited<ReturnType<TrackApps["store"]>>;
      try {
        store = await apps.store(session.user, session.app, ["allowed_run", "allowed_read"]);
      } catch {
        return new MixCase("error", `cannot fetch resource: ${name}`);
      }
      const resources = (await store.getMeta<Record<string, MixValue>>("resources.json")) ?? {};
      const entry = Object.hasOwn(resources, name) ? resources[name] : undefined;
      const stored = isMixMap(entry) && typeof entry.identifier === "string" ? entry.identifier : name;
      const file = await store.files.get(stored);
      if (!file) return new MixCase("error", `cannot fetch resource: ${name}`);
      if (!file.public && !apps.can(session.user, session.app, "allowed_read")) {
        return new MixCase("error", `cannot fetch resource: ${name}`);
      }
      if (file.size > MAX_RESOURCE_BYTES) {
        return new MixCase("error", `resource ${name} is over ${MAX_RESOURCE_BYTES} bytes`);
      }
      return new MixCase("ok", new Uint8Array(await store.blobs.read(file.ref)));
    },
  };
}
