/** The `@amp/secrets` app that holds plugin secrets: `secrets: vault.scoped(LOGIN_SECRETS_APP)`. */
export const LOGIN_SECRETS_APP = "$amp.login";

/**
 * Where plugin client secrets live. `@amp/secrets` satisfies it (envelope-encrypted);
 * a value never leaves it except to make a provider request.
 */
export interface SecretStore {
  set(name: string, value: string): Promise<void>;
  get(name: string): Promise<string | undefined>;
  delete(name: string): Promise<void>;
}
