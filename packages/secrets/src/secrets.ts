import { join } from "node:path";
import { open, type RootDatabase } from "lmdb";
import type { Logger } from "pino";
import { type Envelope, openEnvelope, sealEnvelope } from "./envelope.js";
import { InvalidSecretError, SecretsError } from "./errors.js";
import type { KeyProvider } from "./key-provider.js";
import { LocalKeyring } from "./local-keyring.js";
import { silentLogger } from "./logger.js";

export interface SecretsOptions {
  /** The database dir; secrets live in `<databaseDir>/secrets` (LMDB). */
  databaseDir: string;
  /** Defaults to a `LocalKeyring` in the same dir (sealed by `masterKey` when given). */
  provider?: KeyProvider;
  /** `RMX_MASTER_KEY`, for the default local keyring. */
  masterKey?: string;
  /** Largest value accepted. Default 64 KiB. */
  maxValueBytes?: number;
  logger?: Logger;
}

/** One app's secrets as strings; see `Secrets.scoped`. */
export interface ScopedSecrets {
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string): Promise<void>;
  delete(name: string): Promise<void>;
}

/** What `list` tells about a secret: never its value. */
export interface SecretInfo {
  name: string;
  /** The key-encryption key version that wraps it. */
  version: string;
  provider: string;
  updatedAt: number;
}

/** App names are free-form for the library (amp uses `$amp` internally); HTTP narrows them. */
const APP_NAME = /^[\p{L}\p{N}\p{P}\p{S}]{1,200}$/u;
export const SECRET_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Per-app secrets, each envelope-encrypted (a fresh AES-256-GCM data key per value,
 * wrapped by the provider's KEK), persisted in LMDB. Values come back only through
 * `reveal`, a library call for the VM; nothing here logs or throws a value.
 */
export class Secrets {
  readonly provider: KeyProvider;
  private readonly db: RootDatabase<Envelope, string>;
  private readonly maxValueBytes: number;
  private readonly logger: Logger;

  constructor(options: SecretsOptions) {
    this.logger = options.logger ?? silentLogger;
    this.provider =
      options.provider ??
      new LocalKeyring({
        databaseDir: options.databaseDir,
        masterKey: options.masterKey,
        logger: this.logger,
      });
    this.maxValueBytes = options.maxValueBytes ?? 64 * 1024;
    this.db = open<Envelope, string>({ path: join(options.databaseDir, "secrets"), encoding: "msgpack" });
  }

  async set(app: string, name: string, value: string | Uint8Array): Promise<SecretInfo> {
    const key = keyOf(app, name);
    const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
    if (bytes.length > this.maxValueBytes) {
      throw new InvalidSecretError(`secret value is larger than ${this.maxValueBytes} bytes`, 413);
    }
    const envelope = await sealEnvelope(this.provider, { app, name }, bytes);
    await this.db.put(key, envelope);
    this.logger.info({ app, name, version: envelope.version }, "secret set");
    return infoOf(name, envelope);
  }

  /** The plaintext, or undefined when there is no such secret. For the VM (FFI) and internal use only. */
  async reveal(app: string, name: string): Promise<Buffer | undefined> {
    const envelope = this.db.get(keyOf(app, name));
    return envelope ? openEnvelope(this.provider, { app, name }, envelope) : undefined;
  }

  async revealString(app: string, name: string): Promise<string | undefined> {
    return (await this.reveal(app, name))?.toString("utf8");
  }

  list(app: string): SecretInfo[] {
    const prefix = keyOf(app, "");
    const out: SecretInfo[] = [];
    for (const { key, value } of this.db.getRange({ start: prefix, end: `${prefix.slice(0, -1)}\u0001` })) {
      out.push(infoOf(key.slice(prefix.length), value));
    }
    return out;
  }

  has(app: string, name: string): boolean {
    return this.db.doesExist(keyOf(app, name));
  }

  async delete(app: string, name: string): Promise<boolean> {
    const removed = this.db.removeSync(keyOf(app, name));
    if (removed) this.logger.info({ app, name }, "secret deleted");
    return removed;
  }

  /**
   * The secrets of one app as a small name → string store, for collaborators that keep
   * their own secrets (auth's signing keys, login plugins' client secrets under `$amp.*` apps).
   */
  scoped(app: string): ScopedSecrets {
    keyOf(app, "");
    return {
      get: (name) => this.revealString(app, name),
      set: async (name, value) => {
        await this.set(app, name, value);
      },
      delete: async (name) => {
        await this.delete(app, name);
      },
    };
  }

  /** Adds a key-encryption key version; new secrets use it, old ones still decrypt. */
  rotate(): Promise<string> {
    return this.provider.rotate();
  }

  /** Re-seals every secret not on the current key version. Secrets that fail to open are counted, not lost. */
  async rewrap(): Promise<{ rewrapped: number; failed: number }> {
    const current = await this.provider.currentVersion();
    let rewrapped = 0;
    let failed = 0;
    for (const { key, value: old } of this.db.getRange({})) {
      if (old.version === current && old.provider === this.provider.name) continue;
      const [app, name] = splitKey(key);
      try {
        const plaintext = await openEnvelope(this.provider, { app, name }, old);
        const fresh = await sealEnvelope(this.provider, { app, name }, plaintext, old.updatedAt);
        plaintext.fill(0);
        // Only replace what we read: a concurrent `set` wins.
        const replaced = this.db.transactionSync(() => {
          const now = this.db.get(key);
          if (!now || now.version !== old.version || now.updatedAt !== old.updatedAt) return false;
          this.db.putSync(key, fresh);
          return true;
        });
        if (replaced) rewrapped++;
      } catch (err) {
        if (!(err instanceof SecretsError)) throw err;
        failed++;
        this.logger.error(
          { app, name, version: old.version, code: err.code },
          "secret could not be rewrapped",
        );
      }
    }
    this.logger.info({ rewrapped, failed, version: current }, "secrets rewrapped");
    return { rewrapped, failed };
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

function keyOf(app: string, name: string): string {
  if (!APP_NAME.test(app))
    throw new InvalidSecretError("app name must be 1-200 letters, digits, punctuation or symbols");
  if (name !== "" && !SECRET_NAME.test(name)) {
    throw new InvalidSecretError("secret name must be 1-128 characters of A-Z a-z 0-9 _ . -");
  }
  return `${app}\u0000${name}`;
}

function splitKey(key: string): [string, string] {
  const at = key.indexOf("\u0000");
  return [key.slice(0, at), key.slice(at + 1)];
}

function infoOf(name: string, envelope: Envelope): SecretInfo {
  return { name, version: envelope.version, provider: envelope.provider, updatedAt: envelope.updatedAt };
}
