/** A setting the server cannot run with. `setting` is the flag or variable to fix. */
export class ConfigError extends Error {
  readonly code = "invalid_config";
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`);
    this.name = "ConfigError";
  }
}
