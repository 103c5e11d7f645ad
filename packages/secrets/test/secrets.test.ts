import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import {
  KEYRING_FILE,
  KeyProviderError,
  LocalKeyring,
  openEnvelope,
  SecretDecryptError,
  Secrets,
  sealEnvelope,
} from "../src/index.js";
import { tempDir } from "./helpers.js";

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function openSecrets(options: { masterKey?: string } = {}, dir = tempDir()) {
  const secrets = new Secrets({ databaseDir: dir.dir, ...options });
  cleanups.push(() => dir.cleanup());
  cleanups.push(() => secrets.close());
  return { secrets, dir: dir.dir };
}

describe("Secrets with the local keyring", () => {
  it("stores, lists names, reveals and deletes per app", async () => {
    const { secrets } = openSecrets();
    await secrets.set("shop", "STRIPE_KEY", "sk_live_123");
    await secrets.set("shop", "DB_PASSWORD", "hunter2");
    await secrets.set("blog", "STRIPE_KEY", "other");
    expect((await secrets.list("shop")).map((s) => s.name)).toEqual(["DB_PASSWORD", "STRIPE_KEY"]);
    expect((await secrets.list("blog")).map((s) => s.name)).toEqual(["STRIPE_KEY"]);
    expect(await secrets.revealString("shop", "STRIPE_KEY")).toBe("sk_live_123");
    expect(await secrets.revealString("blog", "STRIPE_KEY")).toBe("other");
    expect(await secrets.delete("shop", "STRIPE_KEY")).toBe(true);
    expect(await secrets.delete("shop", "STRIPE_KEY")).toBe(false);
    expect(await secrets.reveal("shop", "STRIPE_KEY")).toBeUndefined();
    expect((await secrets.list("shop")).map((s) => s.name)).toEqual(["DB_PASSWORD"]);
  });

  it("offers one app's secrets as a scoped string store", async () => {
    const { secrets } = openSecrets();
    const scoped = secrets.scoped("$amp.login");
    await scoped.set("client-secret", "s3cret");
    expect(await scoped.get("client-secret")).toBe("s3cret");
    expect((await secrets.list("$amp.login")).map((s) => s.name)).toEqual(["client-secret"]);
    await scoped.delete("client-secret");
    expect(await scoped.get("client-secret")).toBeUndefined();
  });

  it("round-trips any bytes (property)", async () => {
    const { secrets } = openSecrets();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        await secrets.set("app", "blob", bytes);
        expect(new Uint8Array((await secrets.reveal("app", "blob"))!)).toEqual(bytes);
      }),
      { numRuns: 50 },
    );
  });

  it("creates the keyring with mode 0600 and reuses it across restarts", async () => {
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const first = new Secrets({ databaseDir: dir.dir });
    await first.set("app", "token", "abc");
    await first.close();
    expect(statSync(join(dir.dir, KEYRING_FILE)).mode & 0o777).toBe(0o600);
    const second = new Secrets({ databaseDir: dir.dir });
    cleanups.push(() => second.close());
    expect(await second.revealString("app", "token")).toBe("abc");
  });

  it("tightens a keyring file found readable by others back to 0600", async () => {
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    new LocalKeyring({ databaseDir: dir.dir });
    chmodSync(join(dir.dir, KEYRING_FILE), 0o644);
    new LocalKeyring({ databaseDir: dir.dir });
    expect(statSync(join(dir.dir, KEYRING_FILE)).mode & 0o777).toBe(0o600);
  });

  it("seals the keyring with RMX_MASTER_KEY and refuses a wrong or missing one", async () => {
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const masterKey = randomBytes(32).toString("base64");
    const keyring = new LocalKeyring({ databaseDir: dir.dir, masterKey });
    const file = JSON.parse(readFileSync(join(dir.dir, KEYRING_FILE), "utf8"));
    expect(file.keys).toBeUndefined();
    expect(typeof file.sealed).toBe("string");
    expect(await keyring.currentVersion()).toBe("1");
    expect(
      () => new LocalKeyring({ databaseDir: dir.dir, masterKey: randomBytes(32).toString("hex") }),
    ).toThrow(KeyProviderError);
    expect(() => new LocalKeyring({ databaseDir: dir.dir })).toThrow(/RMX_MASTER_KEY/);
    expect(() => new LocalKeyring({ databaseDir: dir.dir, masterKey: "short" })).toThrow(/32 bytes/);
  });

  it("rotation adds a version: old secrets still decrypt, rewrap moves them", async () => {
    const { secrets } = openSecrets();
    await secrets.set("app", "old", "value-1");
    expect((await secrets.list("app"))[0]!.version).toBe("1");
    expect(await secrets.rotate()).toBe("2");
    await secrets.set("app", "new", "value-2");
    expect(Object.fromEntries((await secrets.list("app")).map((s) => [s.name, s.version]))).toEqual({
      new: "2",
      old: "1",
    });
    expect(await secrets.revealString("app", "old")).toBe("value-1");
    expect(await secrets.rewrap()).toEqual({ rewrapped: 1, failed: 0 });
    expect((await secrets.list("app")).every((s) => s.version === "2")).toBe(true);
    expect(await secrets.revealString("app", "old")).toBe("value-1");
  });

  it("picks up a rotation made by another process on the same dir", async () => {
    const { secrets, dir } = openSecrets();
    const other = new LocalKeyring({ databaseDir: dir });
    await other.rotate();
    const env = await sealEnvelope(other, { app: "a", name: "n" }, Buffer.from("x"));
    expect(env.version).toBe("2");
    expect((await openEnvelope(secrets.provider, { app: "a", name: "n" }, env)).toString()).toBe("x");
  });

  it("rejects oversized values and bad names with typed errors that carry no value", async () => {
    const { secrets } = openSecrets();
    await expect(secrets.set("app", "big", Buffer.alloc(64 * 1024 + 1))).rejects.toMatchObject({
      code: "secret_too_large",
    });
    await expect(secrets.set("app", "bad name!", "plaintext-xyz")).rejects.toMatchObject({
      code: "invalid_secret",
    });
    await expect(secrets.set("app", "bad name!", "plaintext-xyz")).rejects.not.toThrow(/plaintext-xyz/);
  });
});

describe("envelope binding and tampering", () => {
  function newKeyring() {
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    return new LocalKeyring({ databaseDir: dir.dir });
  }
  const ctx = { app: "shop", name: "API_KEY" };
  const secret = "sk_live_very_secret";

  async function expectDecryptError(promise: Promise<unknown>) {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SecretDecryptError);
    expect((err as SecretDecryptError).code).toBe("secret_decrypt_failed");
    expect(String((err as Error).message)).not.toContain(secret);
  }

  it("fails when the ciphertext is moved to another name or app", async () => {
    const keyring = newKeyring();
    const env = await sealEnvelope(keyring, ctx, Buffer.from(secret));
    await expectDecryptError(openEnvelope(keyring, { ...ctx, name: "OTHER" }, env));
    await expectDecryptError(openEnvelope(keyring, { ...ctx, app: "blog" }, env));
    expect((await openEnvelope(keyring, ctx, env)).toString()).toBe(secret);
  });

  it("fails on a flipped bit in the value, the wrapped key, or a relabelled version", async () => {
    const keyring = newKeyring();
    const env = await sealEnvelope(keyring, ctx, Buffer.from(secret));
    for (const field of ["sealed", "wrappedKey"] as const) {
      for (const at of [0, 13, env[field].length - 1]) {
        const bytes = Buffer.from(env[field]);
        bytes[at]! ^= 1;
        await expectDecryptError(openEnvelope(keyring, ctx, { ...env, [field]: bytes }));
      }
    }
    await keyring.rotate();
    await expectDecryptError(openEnvelope(keyring, ctx, { ...env, version: await keyring.currentVersion() }));
    await expectDecryptError(openEnvelope(keyring, ctx, { ...env, sealed: env.sealed.subarray(0, 10) }));
  });

  it("fails with the wrong key", async () => {
    const env = await sealEnvelope(newKeyring(), ctx, Buffer.from(secret));
    await expectDecryptError(openEnvelope(newKeyring(), ctx, env));
  });
});

describe("logging", () => {
  it("logs names and versions but never a value", async () => {
    const { pino } = await import("pino");
    const lines: string[] = [];
    const logger = pino({ level: "trace" }, { write: (line: string) => lines.push(line) });
    const dir = tempDir();
    cleanups.push(() => dir.cleanup());
    const secrets = new Secrets({ databaseDir: dir.dir, logger });
    cleanups.push(() => secrets.close());
    await secrets.set("app", "PASSWORD", "correct-horse-battery");
    await secrets.rotate();
    await secrets.rewrap();
    await secrets.delete("app", "PASSWORD");
    expect(lines.join("\n")).toContain("PASSWORD");
    expect(lines.join("\n")).not.toContain("correct-horse-battery");
  });
});
