/**
 * Where plugin client secrets live. `@amp/secrets` satisfies it (envelope-encrypted);
 * a value never leaves it except to make a provider request.
 */
export interface SecretStore {
  set(name: string, value: string): Promise<void>;
  get(name: string): Promise<string | undefined>;
  delete(name: string): Promise<void>;
}
