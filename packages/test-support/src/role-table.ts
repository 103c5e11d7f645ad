/** Suites grant app roles per (user, app) without an app registry: the shape `@amp/apps` answers. */
export class RoleTable<Role extends string = string> {
  readonly #grants = new Map<string, Set<Role>>();

  grant(user: string, app: string, ...roles: Role[]): this {
    const key = `${user}\u0000${app}`;
    const set = this.#grants.get(key) ?? new Set();
    for (const role of roles) set.add(role);
    this.#grants.set(key, set);
    return this;
  }

  can(user: { id: string }, app: string, role: Role): boolean {
    return this.#grants.get(`${user.id}\u0000${app}`)?.has(role) ?? false;
  }
}
