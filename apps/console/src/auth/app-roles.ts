import { useEffect, useState } from "preact/hooks";
import { api, ok } from "../api/client.js";
import type { components } from "../api/schema.js";

/** One app as the signed-in user sees it (`GET /x/apps/{app}`): their roles on it and its FFI report. */
export type AppDetail = components["schemas"]["AppDetail"];
export type AppRole = AppDetail["roles"][number];

/** Documents and files are written with `allowed_create` (a builder and root hold it too). */
export const mayWrite = (roles: readonly AppRole[] | undefined) => roles?.includes("allowed_create") ?? false;
/** The app's ACL, and deleting the app, need `allowed_build`. */
export const mayBuild = (roles: readonly AppRole[] | undefined) => roles?.includes("allowed_build") ?? false;
/** "read, create" for `allowed_read`, `allowed_create`. */
export const roleNames = (roles: readonly AppRole[]) =>
  roles.map((r) => r.replace("allowed_", "")).join(", ");

/** The app's detail for the signed-in user, fetched once per app; the API's refusal as `error`. */
export function useAppDetail(app: string): { detail?: AppDetail; error?: unknown } {
  const [state, setState] = useState<{ app: string; detail?: AppDetail; error?: unknown }>({ app });
  useEffect(() => {
    setState({ app });
    ok(api.GET("/x/apps/{app}", { params: { path: { app } } })).then(
      (detail) => setState({ app, detail }),
      (error: unknown) => setState({ app, error }),
    );
  }, [app]);
  return state.app === app ? state : {};
}
