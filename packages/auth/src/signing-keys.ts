import { randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import type { Logger } from "pino";

export type SigningAlgorithm = "EdDSA" | "ES256";
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ["EdDSA", "ES256"];

/** Where signing keys are kept: `@amp/secrets`' `secrets.scoped("$amp.auth")` satisfies it. */
export interface KeyVault {
  get(name: string): Promise<string | undefined>;
  set(name: string, value: string): Promise<void>;
  /**
   * Sets only if the value is still `expected` (undefined: absent); false when another writer got
   * there first. With it, nodes sharing the vault that rotate at once agree on one key set.
   */
  setIf?(name: string, expected: string | undefined, value: string): Promise<boolean>;
}

interface StoredKey {
  kid: string;
  alg: SigningAlgorithm;
  privateJwk: JWK;
  publicJwk: JWK;
  createdAt: number;
  /** When a newer key took over; the key still verifies until `retiredAt + overlap`. */
  retiredAt?: number;
}

/** What may be shown of a key (times in ms since the epoch): the signing one rotates at `rotatesAt`, a replaced one verifies until `verifiesUntil`. */
export interface SigningKeyInfo {
  kid: string;
  alg: SigningAlgorithm;
  createdAt: number;
  signing: boolean;
  rotatesAt?: number;
  retiredAt?: number;
  verifiesUntil?: number;
}

type KeyLike = Awaited<ReturnType<typeof importJWK>>;
interface LoadedKey extends StoredKey {
  privateKey: KeyLike;
  publicKey: KeyLike;
}

const VAULT_NAME = "signing-keys";

export interface SigningKeysOptions {
  vault: KeyVault;
  /** Undefined: keep the active key's algorithm (EdDSA for the first key). */
  algorithm: SigningAlgorithm | undefined;
  /** Age at which the active key is replaced. */
  rotateAfterSeconds: number;
  /** How long a replaced key keeps verifying: at least the longest token lifetime. */
  overlapSeconds: number;
  now: () => number;
  logger: Logger;
}

/**
 * The server's signing keys: one active key signs, every key inside its overlap window
 * verifies and is published in the JWKS. Persisted, encrypted, through the key vault.
 */
export class SigningKeys {
  private keys: LoadedKey[] = [];
  private byKid = new Map<string, LoadedKey>();
  private lastReload = 0;
  /** The vault's text as last read: what a rotation expects to replace. */
  private storedText: string | undefined;
  private rotating: Promise<void> | undefined;
  /** Bumped whenever the set of keys is re-read, so caches of verified tokens can drop retired kids. */
  version = 0;

  private constructor(private readonly options: SigningKeysOptions) {}

  static async open(options: SigningKeysOptions): Promise<SigningKeys> {
    const keys = new SigningKeys(options);
    await keys.reload();
    await keys.rotateIfDue();
    return keys;
  }

  /** The key new tokens are signed with. */
  active(): LoadedKey {
    return this.keys.find((k) => k.retiredAt === undefined)!;
  }

  /** The verification key for `kid`, re-reading the vault (at most once a second) for a kid we do not know. */
  async find(kid: string): Promise<LoadedKey | undefined> {
    const key = this.byKid.get(kid);
    if (key || this.options.now() - this.lastReload < 1000) return key;
    await this.reload();
    return this.byKid.get(kid);
  }

  /** Lookup without reloading, for the hot path. */
  get(kid: string): LoadedKey | undefined {
    return this.byKid.get(kid);
  }

  /** Each key's id, algorithm and dates (never key material), the signing one first. */
  describe(): SigningKeyInfo[] {
    const { rotateAfterSeconds, overlapSeconds } = this.options;
    return this.keys.map((k) =>
      k.retiredAt === undefined
        ? {
            kid: k.kid,
            alg: k.alg,
            createdAt: k.createdAt,
            signing: true,
            rotatesAt: k.createdAt + rotateAfterSeconds * 1000,
          }
        : {
            kid: k.kid,
            alg: k.alg,
            createdAt: k.createdAt,
            signing: false,
            retiredAt: k.retiredAt,
            verifiesUntil: k.retiredAt + overlapSeconds * 1000,
          },
    );
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.alg, use: "sig" })) };
  }

  /** Replaces the active key when it is older than the rotation age or of another algorithm. */
  async rotateIfDue(): Promise<void> {
    if (this.isDue()) await this.rotateOnce(true);
  }

  /** A new active key; the previous one keeps verifying for the overlap window. */
  rotate(): Promise<void> {
    return this.rotateOnce(false);
  }

  private rotateOnce(onlyIfDue: boolean): Promise<void> {
    this.rotating ??= this.doRotate(onlyIfDue).finally(() => {
      this.rotating = undefined;
    });
    return this.rotating;
  }

  private async doRotate(onlyIfDue: boolean): Promise<void> {
    await this.reload();
    // Nodes sharing the vault may rotate at once: the first write wins, the others find the
    // fresh key on re-reading and use it (a few tries, in case the winner's key was also due).
    // A rotation because the key was due is checked again on what was just read: another node
    // may have rotated since (a forced rotation, `rotate()`, is not).
    for (let attempt = 0; attempt < 5; attempt++) {
      if ((onlyIfDue || attempt > 0) && !this.isDue()) return;
      if (await this.writeRotation()) return;
      this.options.logger.info("signing keys rotated by another node; using theirs");
      await this.reload();
    }
  }

  private isDue(): boolean {
    const active = this.keys.find((k) => k.retiredAt === undefined);
    return (
      !active ||
      (this.options.algorithm !== undefined && active.alg !== this.options.algorithm) ||
      this.options.now() - active.createdAt >= this.options.rotateAfterSeconds * 1000
    );
  }

  /** Writes a key set with a fresh active key; false when the vault changed since it was read. */
  private async writeRotation(): Promise<boolean> {
    const now = this.options.now();
    const alg = this.options.algorithm ?? this.keys.find((k) => k.retiredAt === undefined)?.alg ?? "EdDSA";
    const pair = await generateKeyPair(alg, {
      extractable: true,
      crv: alg === "EdDSA" ? "Ed25519" : undefined,
    });
    const fresh: StoredKey = {
      kid: randomUUID(),
      alg,
      privateJwk: await exportJWK(pair.privateKey),
      publicJwk: await exportJWK(pair.publicKey),
      createdAt: now,
    };
    const kept = this.keys
      .map(({ privateKey: _p, publicKey: _q, ...stored }) => ({
        ...stored,
        retiredAt: stored.retiredAt ?? now,
      }))
      .filter((k) => now - k.retiredAt < this.options.overlapSeconds * 1000);
    const text = JSON.stringify({ keys: [fresh, ...kept] });
    const { vault } = this.options;
    if (vault.setIf) {
      if (!(await vault.setIf(VAULT_NAME, this.storedText, text))) return false;
    } else {
      await vault.set(VAULT_NAME, text);
    }
    await this.reload();
    this.options.logger.info({ kid: fresh.kid, alg, retained: kept.length }, "signing key rotated");
    return true;
  }

  private async reload(): Promise<void> {
    this.lastReload = this.options.now();
    const text = await this.options.vault.get(VAULT_NAME);
    this.storedText = text;
    if (text === undefined) return;
    const stored = (JSON.parse(text) as { keys: StoredKey[] }).keys;
    const now = this.options.now();
    const loaded: LoadedKey[] = [];
    for (const k of stored) {
      if (k.retiredAt !== undefined && now - k.retiredAt >= this.options.overlapSeconds * 1000) continue;
      loaded.push({
        ...k,
        privateKey: await importJWK(k.privateJwk, k.alg),
        publicKey: await importJWK(k.publicJwk, k.alg),
      });
    }
    this.keys = loaded;
    this.byKid = new Map(loaded.map((k) => [k.kid, k]));
    this.version++;
  }
}
