import type { RecordStore, Records } from "@amp/records";
import { LoginError } from "../errors.js";
import type { SecretStore } from "../secret-store.js";
import type { PluginConfig, PluginConfigInput } from "./schema.js";

/**
 * Login plugin configurations, persisted in a record store (LMDB, or PostgreSQL shared by every
 * node); their secrets (client secret, Apple key) go to the injected `SecretStore` and never
 * into the database or a response.
 *
 * Reads answer from a mirror in memory: `isActive` is asked on every token verification. The
 * mirror follows the store's writes, another node's within the store's notification delay.
 */
export class PluginConfigStore {
  readonly #db: RecordStore<PluginConfig>;
  readonly #secrets: SecretStore;
  readonly #now: () => number;
  readonly #mirror = new Map<string, PluginConfig>();
  readonly #unwatch: () => void;

  /** Settles once the configurations are loaded; reads before then see none. */
  readonly ready: Promise<void>;

  constructor(options: { records: Records; secrets: SecretStore; now?: () => number }) {
    this.#db = options.records.open<PluginConfig>("auth-login-plugins");
    this.#secrets = options.secrets;
    this.#now = options.now ?? Date.now;
    // A refresh the watch asks for never throws: while the store is down the last known
    // configurations keep serving, and the watch asks again once it is back.
    this.#unwatch = this.#db.watch((id) => void this.#refresh(id).catch(() => undefined));
    this.ready = this.#refresh(undefined);
  }

  /** Stops following the store. */
  close(): void {
    this.#unwatch();
  }

  /** Re-reads one configuration, or all of them (`undefined`: changes may have been missed). */
  async #refresh(id: string | undefined): Promise<void> {
    if (id !== undefined) {
      const config = await this.#db.get(id);
      if (config) this.#mirror.set(id, config);
      else this.#mirror.delete(id);
      return;
    }
    const all = await this.#db.range();
    this.#mirror.clear();
    for (const { key, value } of all) this.#mirror.set(key, value);
  }

  /**
   * False once a configuration is deleted: the token core rejects tokens whose
   * `plugin` claim names an inactive configuration.
   */
  isActive(id: string): boolean {
    return this.#mirror.has(id);
  }

  get(id: string): PluginConfig | undefined {
    return this.#mirror.get(id);
  }

  list(): PluginConfig[] {
    return [...this.#mirror.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async create(id: string, input: PluginConfigInput, owner: string): Promise<PluginConfig> {
    if (this.#mirror.has(id))
      throw new LoginError("config_exists", `plugin configuration "${id}" exists`, 409);
    const secret = secretOf(input);
    if (input.visibility === "confidential" && secret === undefined) {
      throw new LoginError("secret_required", "a confidential plugin needs its client secret (or Apple key)");
    }
    const now = new Date(this.#now()).toISOString();
    const config = toStored(id, input, {
      owner,
      hasSecret: secret !== undefined,
      createdAt: now,
      updatedAt: now,
    });
    // The secret lands first, so a stored configuration never points at a missing one.
    if (secret !== undefined) await this.#secrets.set(secretName(id), secret);
    const created = await this.#db.update([id], (current) =>
      current.has(id) ? { result: false } : { writes: new Map([[id, config]]), result: true },
    );
    if (created) this.#mirror.set(id, config);
    if (!created) throw new LoginError("config_exists", `plugin configuration "${id}" exists`, 409);
    return config;
  }

  /** Replaces a configuration; an omitted secret keeps the stored one. */
  async replace(id: string, input: PluginConfigInput): Promise<PluginConfig> {
    const previous = await this.#db.get(id);
    if (!previous) throw new LoginError("config_not_found", `no plugin configuration "${id}"`, 404);
    const secret = secretOf(input);
    const keepsSecret = input.visibility === "confidential" && secret === undefined && previous.hasSecret;
    if (input.visibility === "confidential" && secret === undefined && !keepsSecret) {
      throw new LoginError("secret_required", "a confidential plugin needs its client secret (or Apple key)");
    }
    if (secret !== undefined) await this.#secrets.set(secretName(id), secret);
    const config = toStored(id, input, {
      owner: previous.owner,
      hasSecret: secret !== undefined || keepsSecret,
      createdAt: previous.createdAt,
      updatedAt: new Date(this.#now()).toISOString(),
    });
    await this.#db.put(id, config);
    this.#mirror.set(id, config);
    if (!config.hasSecret && previous.hasSecret) await this.#secrets.delete(secretName(id));
    return config;
  }

  /** Deletes a configuration and its secret; true when it existed. */
  async delete(id: string): Promise<boolean> {
    const previous = await this.#db.get(id);
    if (!previous) return false;
    // The configuration goes first, so its tokens stop verifying at once.
    await this.#db.delete(id);
    this.#mirror.delete(id);
    if (previous.hasSecret) await this.#secrets.delete(secretName(id));
    return true;
  }

  /** The client secret (or Apple PEM key) of `config`, for a provider request only. */
  async secret(config: PluginConfig): Promise<string | undefined> {
    return config.hasSecret ? this.#secrets.get(secretName(config.id)) : undefined;
  }
}

function secretName(id: string): string {
  return `auth.login.${id}.secret`;
}

function secretOf(input: PluginConfigInput): string | undefined {
  return input.kind === "apple" ? input.privateKey : input.clientSecret;
}

function toStored(
  id: string,
  input: PluginConfigInput,
  meta: { owner: string; hasSecret: boolean; createdAt: string; updatedAt: string },
): PluginConfig {
  const {
    clientSecret: _secret,
    privateKey: _key,
    ...rest
  } = input as PluginConfigInput & {
    clientSecret?: string;
    privateKey?: string;
  };
  return { ...rest, id, ...meta } as PluginConfig;
}
