import { useState } from "preact/hooks";
import type { components } from "../api/schema.js";

export type AclRule = components["schemas"]["AclRule"];
export type Role = keyof AclRule;

export const ROLES: readonly Role[] = [
  "allowed_read",
  "allowed_run",
  "allowed_create",
  "allowed_build",
  "allowed_agents",
];

const USER = /^[^\s]{1,256}$/;

/** Users of a rule, in order of first appearance. */
export const usersOf = (rule: AclRule) => [...new Set(ROLES.flatMap((role) => rule[role] ?? []))];

/**
 * An app's ACL as a table of users × roles. With `onChange` each cell is a checkbox and a user
 * can be added; without it the table only shows.
 */
export function AclTable(props: { rule: AclRule; onChange?: (rule: AclRule) => void }) {
  const { rule, onChange } = props;
  const [newUser, setNewUser] = useState("");
  const [extra, setExtra] = useState<string[]>([]);
  const users = [...new Set([...usersOf(rule), ...extra])];
  const toggle = (user: string, role: Role, on: boolean) => {
    const current = rule[role] ?? [];
    const next = on ? [...current, user] : current.filter((u) => u !== user);
    onChange?.({ ...rule, [role]: next });
  };
  return (
    <div>
      <div class="scroll">
        <table class="acl" aria-label="Roles by user">
          <thead>
            <tr>
              <th scope="col">User</th>
              {ROLES.map((role) => (
                <th scope="col" key={role}>
                  {role.replace("allowed_", "")}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {users.map((user) => (
              <tr key={user}>
                <th scope="row">{user}</th>
                {ROLES.map((role) => {
                  const on = (rule[role] ?? []).includes(user);
                  return (
                    <td key={role}>
                      {onChange ? (
                        <input
                          type="checkbox"
                          checked={on}
                          aria-label={`${user} ${role.replace("allowed_", "")}`}
                          onChange={(e) => toggle(user, role, e.currentTarget.checked)}
                        />
                      ) : (
                        <span>{on ? "✓" : "–"}</span>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {onChange ? (
        <div class="inline">
          <label for="acl-new-user">Add a user</label>
          <input
            id="acl-new-user"
            maxLength={256}
            value={newUser}
            onInput={(e) => setNewUser(e.currentTarget.value)}
            placeholder="user id, * or anonymous"
          />
          <button
            type="button"
            onClick={() => {
              const user = newUser.trim();
              if (!USER.test(user) || users.includes(user)) return;
              setExtra([...extra, user]);
              // A new user starts as a reader: the least a row can mean.
              toggle(user, "allowed_read", true);
              setNewUser("");
            }}
          >
            Add
          </button>
        </div>
      ) : null}
    </div>
  );
}
