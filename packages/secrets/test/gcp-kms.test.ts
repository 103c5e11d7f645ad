import { generateKeyPairSync } from "node:crypto";
import { type FakeGcpKms, startFakeGcpKms } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GcpKmsProvider, KeyProviderError, SecretDecryptError, Secrets } from "../src/index.js";
import { tempDir } from "./helpers.js";

const KEY = "projects/test-project/locations/global/keyRings/amp/cryptoKeys/secrets";

describe("GcpKmsProvider against a fake GCP KMS (the Cloud KMS REST API on loopback)", () => {
  let kms: FakeGcpKms;
  let secrets: Secrets;
  const dir = tempDir();

  beforeAll(async () => {
    kms = await startFakeGcpKms(KEY);
    const provider = new GcpKmsProvider({
      keyName: KEY,
      credentials: kms.credentials,
      endpoint: kms.baseUrl,
    });
    secrets = new Secrets({ databaseDir: dir.dir, provider });
  });
  afterAll(async () => {
    await secrets?.close();
    await kms?.close();
    dir.cleanup();
  });

  it("envelope-encrypts through KMS and caches the service-account token", async () => {
    await secrets.set("app", "API_KEY", "abc123");
    await secrets.set("app", "OTHER", "def456");
    expect(await secrets.revealString("app", "API_KEY")).toBe("abc123");
    expect(kms.calls.token).toBe(1);
    expect(kms.calls.encrypt).toBe(2);
    expect(kms.calls.decrypt).toBe(1);
    expect((await secrets.list("app"))[0]).toMatchObject({ provider: "gcp-kms", version: "1" });
  });

  it("rotates by adding a primary version; old secrets decrypt, rewrap moves them", async () => {
    await secrets.set("app", "ROTATED", "before");
    expect(await secrets.rotate()).toBe("2");
    expect(await secrets.revealString("app", "ROTATED")).toBe("before");
    await secrets.set("app", "AFTER", "after");
    expect((await secrets.list("app")).find((s) => s.name === "AFTER")!.version).toBe("2");
    const result = await secrets.rewrap();
    expect(result.failed).toBe(0);
    expect(result.rewrapped).toBe(3);
    expect((await secrets.list("app")).every((s) => s.version === "2")).toBe(true);
    expect(await secrets.revealString("app", "ROTATED")).toBe("before");
  });

  it("reports a KMS decrypt refusal (wrong associated data) as SecretDecryptError", async () => {
    const provider = new GcpKmsProvider({
      keyName: KEY,
      credentials: kms.credentials,
      endpoint: kms.baseUrl,
    });
    const wrapped = await provider.wrap(Buffer.alloc(32, 7), Buffer.from("aad"));
    await expect(
      provider.unwrap(wrapped.wrapped, wrapped.version, Buffer.from("other")),
    ).rejects.toBeInstanceOf(SecretDecryptError);
    expect(Buffer.from(await provider.unwrap(wrapped.wrapped, wrapped.version, Buffer.from("aad")))).toEqual(
      Buffer.alloc(32, 7),
    );
  });

  it("fetches a new token after the KMS rejects the cached one", async () => {
    const provider = new GcpKmsProvider({
      keyName: KEY,
      credentials: kms.credentials,
      endpoint: kms.baseUrl,
    });
    await provider.currentVersion();
    kms.revokeAllTokens();
    await expect(provider.currentVersion()).rejects.toBeInstanceOf(KeyProviderError);
    expect(await provider.currentVersion()).toBe("2");
  });

  it("fails with a typed error for credentials the token endpoint refuses", async () => {
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const provider = new GcpKmsProvider({
      keyName: KEY,
      credentials: { ...kms.credentials, private_key: privateKey },
      endpoint: kms.baseUrl,
    });
    await expect(provider.wrap(Buffer.alloc(32), Buffer.alloc(0))).rejects.toMatchObject({
      code: "key_provider_failed",
      message: expect.stringMatching(/token exchange failed/),
    });
  });

  it("refuses plain-http endpoints other than loopback, and malformed key names", () => {
    expect(
      () =>
        new GcpKmsProvider({
          keyName: KEY,
          credentials: kms.credentials,
          endpoint: "http://kms.example.com",
        }),
    ).toThrow(KeyProviderError);
    expect(() => new GcpKmsProvider({ keyName: "projects/x", credentials: kms.credentials })).toThrow(
      /CryptoKey/,
    );
  });
});
