import { join } from "node:path";
import { LmdbRecordStore, type RecordStore } from "@amp/records";
import { open, type RootDatabase } from "lmdb";
import type { Logger } from "pino";
import { type Envelope, openEnvelope, sealEnvelope } from "./envelope.js";
import { InvalidSecretError, KeyProviderError, SecretsError } from "./errors.js";
import type { KeyProvider } from "./key-provider.js";
import { LocalKeyring } from "./local-keyring.js";
import { silentLogger } from "./logger.js";

export interface SecretsOptions {
  /** The database dir: the default store is `<databaseDir>/secrets` (LMDB), the keyring `secrets.keyring`. */
  databaseDir: string;
  /**
   * Where the envelopes live instead of that LMDB folder, e.g. `PostgresRecords.open(…).open("secrets")`
   * from `@amp/records/postgres` for several nodes. Keys are `<app>\0<name>`.
   */
  store?: RecordStore<Envelope>;
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
  /**
   * Sets `value` only if the secret still holds `expected` (undefined: absent); false when another
   * writer (another node) changed it first, so the caller re-reads and decides again.
   */
  setIf(name: string, expected: string | undefined, value: string): Promise<boolean>;
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
 * wrapped by the provider's KEK), persisted in a record store (LMDB by default, PostgreSQL for
 * several nodes). Values come back only through `reveal`, a library call for the VM; nothing
 * here logs or throws a value.
 */
export class Secrets {
  readonly provider: KeyProvider;
  private readonly store: RecordStore<Envelope>;
  /** The LMDB environment this object opened (none when given a store). */
  private readonly ownDb: RootDatabase<Envelope, string> | undefined;
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
    if (options.store) {
      this.store = options.store;
    } else {
      this.ownDb = open<Envelope, string>({
        path: join(options.databaseDir, "secrets"),
        encoding: "msgpack",
      });
      this.store = new LmdbRecordStore(this.ownDb);
    }
  }

  /**
   * Checks that this process's key-encryption keys open the store's secrets: a canary sealed by
   * the first process is opened by every later one. On a shared store this catches a node
   * started with another keyring (or KMS key) before it writes secrets nobody else can read.
   */
  async checkKeys(): Promise<void> {
    const key = keyOf(CANARY.app, CANARY.name);
    const existing = await this.store.get(key);
    if (existing) {
      try {
        await openEnvelope(this.provider, CANARY, existing);
        return;
      } catch (err) {
        if (!(err instanceof SecretsError)) throw err;
        throw new KeyProviderError(
          "this process's key-encryption keys do not open the stored secrets: give every node the same keyring (copy secrets.keyring from the first node, with the same RMX_MASTER_KEY) or the same --kms-key",
          { cause: err },
        );
      }
    }
    const canary = await sealEnvelope(this.provider, CANARY, Buffer.from("amp"));
    const created = await this.store.update([key], (current) =>
      current.has(key) ? { result: false } : { writes: new Map([[key, canary]]), result: true },
    );
    if (!created) await this.checkKeys(); // another node sealed it first: check theirs
  }

  async set(app: string, name: string, value: string | Uint8Array): Promise<SecretInfo> {
    const key = keyOf(app, name);
    const bytes = typeof value === "string" ? Buffer.from(value, "utf8") : value;
    if (bytes.length > this.maxValueBytes) {
      throw new InvalidSecretError(`secret value is larger than ${this.maxValueBytes} bytes`, 413);
    }
    const envelope = await sealEnvelope(this.provider, { app, name }, bytes);
    await this.store.put(key, envelope);
    this.logger.info({ app, name, version: envelope.version }, "secret set");
    return infoOf(name, envelope);
  }

  /** The plaintext, or undefined when there is no such secret. For the VM (FFI) and internal use only. */
  async reveal(app: string, name: string): Promise<Buffer | undefined> {
    const envelope = await this.store.get(keyOf(app, name));
    return envelope ? openEnvelope(this.provider, { app, name }, envelope) : undefined;
  }

  async revealString(app: string, name: string): Promise<string | undefined> {
    return (await this.reveal(app, name))?.toString("utf8");
  }

  async list(app: string): Promise<SecretInfo[]> {
    const prefix = keyOf(app, "");
    const entries = await this.store.range(prefix);
    return entries.map(({ key, value }) => infoOf(key.slice(prefix.length), value));
  }

  async has(app: string, name: string): Promise<boolean> {
    return (await this.store.get(keyOf(app, name))) !== undefined;
  }

  async delete(app: string, name: string): Promise<boolean> {
    const removed = await this.store.delete(keyOf(app, name));
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
      setIf: (name, expected, value) => this.setIf(app, name, expected, value),
      delete: async (name) => {
        await this.delete(app, name);
      },
    };
  }

  /** `set` if the secret still holds `expected` (undefined: absent); false when it changed first. */
  async setIf(app: string, name: string, expected: string | undefined, value: string): Promise<boolean> {
    const key = keyOf(app, name);
    const before = await this.store.get(key);
    const plaintext = before
      ? (await openEnvelope(this.provider, { app, name }, before)).toString("utf8")
      : undefined;
    if (plaintext !== expected) return false;
    const bytes = Buffer.from(value, "utf8");
    if (bytes.length > this.maxValueBytes) {
      throw new InvalidSecretError(`secret value is larger than ${this.maxValueBytes} bytes`, 413);
    }
    const fresh = await sealEnvelope(this.provider, { app, name }, bytes);
    const replaced = await this.store.update([key], (current) =>
      sameEnvelope(current.get(key), before)
        ? { writes: new Map([[key, fresh]]), result: true }
        : { result: false },
    );
    if (replaced) this.logger.info({ app, name, version: fresh.version }, "secret set");
    return replaced;
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
    for (const { key, value: old } of await this.store.range()) {
      if (old.version === current && old.provider === this.provider.name) continue;
      const [app, name] = splitKey(key);
      try {
        const plaintext = await openEnvelope(this.provider, { app, name }, old);
        const fresh = await sealEnvelope(this.provider, { app, name }, plaintext, old.updatedAt);
        plaintext.fill(0);
        // Only replace what we read: a concurrent `set` wins.
        const replaced = await this.store.update([key], (now) =>
          sameEnvelope(now.get(key), old)
            ? { writes: new Map([[key, fresh]]), result: true }
            : { result: false },
        );
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

  /** Closes the LMDB folder this object opened; a store given in the options is the caller's to close. */
  async close(): Promise<void> {
    await this.ownDb?.close();
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

/** The secret `checkKeys` seals once and every later process opens. */
const CANARY = { app: "$amp.secrets", name: "key-check" };

/** The same stored envelope: what a compare-and-set compares (never the plaintext). */
function sameEnvelope(a: Envelope | undefined, b: Envelope | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.version === b.version &&
    a.provider === b.provider &&
    a.updatedAt === b.updatedAt &&
    Buffer.from(a.sealed).equals(Buffer.from(b.sealed))
  );
}

function splitKey(key: string): [string, string] {
  const at = key.indexOf("\u0000");
  return [key.slice(0, at), key.slice(at + 1)];
}

function infoOf(name: string, envelope: Envelope): SecretInfo {
  return { name, version: envelope.version, provider: envelope.provider, updatedAt: envelope.updatedAt };
}
