import type { ActingUser } from "./user.js";

/** Roles granted per app in `_rmx_admin`. */
export const ROLES = [
  "allowed_read",
  "allowed_run",
  "allowed_build",
  "allowed_create",
  "allowed_agents",
] as const;
export type Role = (typeof ROLES)[number];

/** Principal matching every signed-in (non-anonymous) user. */
export const ALL_USERS = "_rmx_all_users";
/** Principal matching every anonymous caller (`anon-<id>`). */
export const ANONYMOUS = "anon-*";
/** The server-wide rule: its `allowed_create` lets a user create (and import) new apps. */
export const SERVER_RULE = "*";

/** One app's grants: role → principals (user ids, `_rmx_all_users`, `anon-*`). */
export type AclRule = Partial<Record<Role, readonly string[]>>;

/** A builder owns the app: holding `allowed_build` implies every other role. */
function grants(rule: AclRule, role: Role, user: ActingUser): boolean {
  const principals = rule[role];
  if (!principals) return false;
  if (principals.includes(user.id)) return true;
  return user.anonymous ? principals.includes(ANONYMOUS) : principals.includes(ALL_USERS);
}

/** Deny by default: root is allowed everything, everyone else only what the rule grants. */
export function ruleAllows(rule: AclRule | undefined, role: Role, user: ActingUser): boolean {
  if (user.root) return true;
  if (!rule) return false;
  return grants(rule, role, user) || (role !== "allowed_build" && grants(rule, "allowed_build", user));
}

/** True when the user holds any role on the app (and may therefore learn that it exists). */
export function ruleKnows(rule: AclRule | undefined, user: ActingUser): boolean {
  return ROLES.some((role) => ruleAllows(rule, role, user));
}
