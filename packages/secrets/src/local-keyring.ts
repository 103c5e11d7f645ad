import { randomBytes } from "node:crypto";
import {
  chmodSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { openAesGcm, sealAesGcm } from "./aes-gcm.js";
import { KeyProviderError, SecretDecryptError, UnknownKeyVersionError } from "./errors.js";
import type { KeyProvider, WrappedKey } from "./key-provider.js";
import { silentLogger } from "./logger.js";

export const KEYRING_FILE = "secrets.keyring";
const FORMAT = "amp-keyring/1";
const SEAL_AAD = Buffer.from(FORMAT);

export interface LocalKeyringOptions {
  /** The database dir; the keyring lives in `<databaseDir>/secrets.keyring` with mode 0600. */
  databaseDir: string;
  /**
   * `RMX_MASTER_KEY`: 32 bytes as base64, base64url or hex. When given, the keyring file is
   * itself sealed by it, so the file alone reveals nothing.
   */
  masterKey?: string;
  logger?: Logger;
}

interface KeyringData {
  current: string;
  keys: Record<string, string>;
}

/**
 * Key-encryption keys kept in a file in the database dir, generated on first start.
 * Each rotation adds a version; every version stays to unwrap older secrets.
 */
export class LocalKeyring implements KeyProvider {
  readonly name = "local";
  private readonly path: string;
  private readonly master: Buffer | undefined;
  private readonly logger: Logger;
  private data: KeyringData;

  constructor(options: LocalKeyringOptions) {
    this.path = join(options.databaseDir, KEYRING_FILE);
    this.master = options.masterKey === undefined ? undefined : parseMasterKey(options.masterKey);
    this.logger = options.logger ?? silentLogger;
    mkdirSync(options.databaseDir, { recursive: true, mode: 0o700 });
    this.data = this.loadOrCreate();
  }

  async wrap(dataKey: Uint8Array, aad: Uint8Array): Promise<WrappedKey> {
    const version = this.data.current;
    return { version, wrapped: sealAesGcm(this.kek(version), dataKey, aad) };
  }

  async unwrap(wrapped: Uint8Array, version: string, aad: Uint8Array): Promise<Uint8Array> {
    return openAesGcm(this.kek(version), wrapped, aad);
  }

  async currentVersion(): Promise<string> {
    return this.data.current;
  }

  async rotate(): Promise<string> {
    // Re-read first so a rotation made by another process (the operator CLI) is kept.
    const data = this.read() ?? this.data;
    const version = String(Math.max(...Object.keys(data.keys).map(Number)) + 1);
    this.data = { current: version, keys: { ...data.keys, [version]: randomBytes(32).toString("base64") } };
    this.write(this.data, "replace");
    this.logger.info({ version }, "secrets keyring rotated");
    return version;
  }

  private kek(version: string): Buffer {
    let key = this.data.keys[version];
    if (key === undefined) {
      // Another process may have rotated since we loaded the file.
      this.data = this.read() ?? this.data;
      key = this.data.keys[version];
    }
    if (key === undefined) throw new UnknownKeyVersionError(version);
    return Buffer.from(key, "base64");
  }

  private loadOrCreate(): KeyringData {
    const existing = this.read();
    if (existing) return existing;
    const fresh: KeyringData = { current: "1", keys: { "1": randomBytes(32).toString("base64") } };
    if (this.write(fresh, "create")) {
      this.logger.info({ path: this.path, sealed: this.master !== undefined }, "secrets keyring created");
      return fresh;
    }
    // Another process created it first: use theirs.
    return this.read()!;
  }

  private read(): KeyringData | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new KeyProviderError(`cannot read the keyring ${this.path}`, { cause: err });
    }
    this.checkMode();
    let file: { format?: unknown; sealed?: unknown; current?: unknown; keys?: unknown };
    try {
      file = JSON.parse(text);
    } catch {
      throw new KeyProviderError(`the keyring ${this.path} is not valid JSON`);
    }
    if (file.format !== FORMAT) throw new KeyProviderError(`the keyring ${this.path} has an unknown format`);
    if (typeof file.sealed === "string") {
      if (!this.master)
        throw new KeyProviderError("the keyring is sealed by a master key: set RMX_MASTER_KEY");
      try {
        return validate(
          JSON.parse(openAesGcm(this.master, Buffer.from(file.sealed, "base64"), SEAL_AAD).toString()),
        );
      } catch (err) {
        if (err instanceof SecretDecryptError)
          throw new KeyProviderError("the master key does not open the keyring");
        throw err;
      }
    }
    if (this.master)
      throw new KeyProviderError("RMX_MASTER_KEY is set but the keyring file is not sealed by it");
    return validate({ current: file.current, keys: file.keys });
  }

  /** Writes atomically with mode 0600; "create" never overwrites (returns false if the file exists). */
  private write(data: KeyringData, mode: "create" | "replace"): boolean {
    const body = this.master
      ? {
          format: FORMAT,
          sealed: sealAesGcm(this.master, Buffer.from(JSON.stringify(data)), SEAL_AAD).toString("base64"),
        }
      : { format: FORMAT, ...data };
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    writeFileSync(tmp, JSON.stringify(body), { mode: 0o600, flag: "wx", flush: true });
    try {
      if (mode === "replace") {
        renameSync(tmp, this.path);
        return true;
      }
      try {
        linkSync(tmp, this.path);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw err;
      }
    } finally {
      if (mode === "create") unlinkSync(tmp);
    }
  }

  private checkMode(): void {
    const mode = statSync(this.path).mode & 0o777;
    if (mode & 0o077) {
      this.logger.warn(
        { path: this.path, mode: mode.toString(8) },
        "keyring was readable by others; set to 0600",
      );
      chmodSync(this.path, 0o600);
    }
  }
}

function validate(data: { current?: unknown; keys?: unknown }): KeyringData {
  const keys = data.keys as Record<string, unknown> | undefined;
  const ok =
    typeof data.current === "string" &&
    keys !== null &&
    typeof keys === "object" &&
    Object.values(keys).every((k) => typeof k === "string" && Buffer.from(k, "base64").length === 32) &&
    typeof keys[data.current] === "string";
  if (!ok) throw new KeyProviderError("the keyring file is malformed");
  return data as KeyringData;
}

/** Accepts 32 bytes as hex, base64 or base64url. */
export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, "hex")
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)
      ? Buffer.from(trimmed.replace(/-/g, "+").replace(/_/g, "/"), "base64")
      : undefined;
  if (key?.length !== 32) throw new KeyProviderError("RMX_MASTER_KEY must be 32 bytes as hex or base64");
  return key;
}
