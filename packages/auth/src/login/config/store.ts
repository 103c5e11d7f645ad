import type { Database, RootDatabase } from "lmdb";
import { LoginError } from "../errors.js";
import type { SecretStore } from "../secret-store.js";
import type { PluginConfig, PluginConfigInput } from "./schema.js";

/**
 * Login plugin configurations, persisted in LMDB; their secrets (client secret, Apple
 * key) go to the injected `SecretStore` and never into the database or a response.
 */
export class PluginConfigStore {
  readonly #db: Database<PluginConfig, string>;
  readonly #secrets: SecretStore;
  readonly #now: () => number;

  constructor(options: { db: RootDatabase; secrets: SecretStore; now?: () => number }) {
    this.#db = options.db.openDB<PluginConfig, string>({ name: "auth-login-plugins" });
    this.#secrets = options.secrets;
    this.#now = options.now ?? Date.now;
  }

  /**
   * False once a configuration is deleted: the token core rejects tokens whose
   * `plugin` claim names an inactive configuration.
   */
  isActive(id: string): boolean {
    return this.#db.get(id) !== undefined;
  }

  get(id: string): PluginConfig | undefined {
    return this.#db.get(id);
  }

  list(): PluginConfig[] {
    return [...this.#db.getRange().map(({ value }) => value)];
  }

  async create(id: string, input: PluginConfigInput, owner: string): Promise<PluginConfig> {
    if (this.#db.get(id)) throw new LoginError("config_exists", `plugin configuration "${id}" exists`, 409);
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
    const created = this.#db.transactionSync(() => {
      if (this.#db.get(id)) return false;
      this.#db.putSync(id, config);
      return true;
    });
    if (!created) throw new LoginError("config_exists", `plugin configuration "${id}" exists`, 409);
    return config;
  }

  /** Replaces a configuration; an omitted secret keeps the stored one. */
  async replace(id: string, input: PluginConfigInput): Promise<PluginConfig> {
    const previous = this.#db.get(id);
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
    if (!config.hasSecret && previous.hasSecret) await this.#secrets.delete(secretName(id));
    return config;
  }

  /** Deletes a configuration and its secret; true when it existed. */
  async delete(id: string): Promise<boolean> {
    const previous = this.#db.get(id);
    if (!previous) return false;
    // The configuration goes first, so its tokens stop verifying at once.
    await this.#db.remove(id);
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
