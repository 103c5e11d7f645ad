import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { paths } from "../api/schema.js";

export type Profile = paths["/x/profile"]["get"]["responses"][200]["content"]["application/json"];

/** The signed-in user, as `GET /x/profile` describes them. */
export const Me = createContext<Profile | undefined>(undefined);

export function useMe(): Profile {
  const me = useContext(Me);
  if (!me) throw new Error("useMe outside a signed-in view");
  return me;
}
