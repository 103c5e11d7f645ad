import { generateKeyPairSync, type KeyObject, randomUUID, sign } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createOperatorToken } from "@amp/auth";
import { GcpKmsProvider, KEYRING_FILE } from "@amp/secrets";
import { type FakeGcpKms, startFakeGcpKms } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, serve } from "../src/index.js";
import { type ComposedAmp, startComposed } from "./helpers/composed.js";
import { errorCode } from "./helpers/json.js";
import { runBin } from "./helpers/server-process.js";

/** `amp serve` in this process up to its config check: the exit status and what it printed. */
async function runServe(argv: string[], env: Record<string, string> = {}) {
  let code: number | undefined;
  let stderr = "";
  await serve({ argv, env, stdout: () => {}, stderr: (t) => (stderr += t), exit: (c) => (code = c) });
  return { code, stderr };
}

const CENTRAL = "https://id.remix.test";

/** An EdDSA JWT signed with node:crypto (what a central issuer hands its users). */
function jwt(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const input = `${b64({ alg: "EdDSA", typ: "at+jwt", kid })}.${b64({ iat: now, exp: now + 600, jti: randomUUID(), ...claims })}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString("base64url")}`;
}

describe("central issuer (--central-issuer) with a real JWKS on loopback", () => {
  const central = generateKeyPairSync("ed25519");
  const stranger = generateKeyPairSync("ed25519");
  let jwks: Server;
  let jwksUrl: string;
  let fetches = 0;
  let amp: ComposedAmp;

  beforeAll(async () => {
    jwks = createServer((req, res) => {
      fetches++;
      if (req.url !== "/x/jwks.json") return res.writeHead(404).end();
      const jwk = central.publicKey.export({ format: "jwk" });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: [{ ...jwk, kid: "central-1", alg: "EdDSA", use: "sig" }] }));
    });
    await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/x/jwks.json`;
    amp = await startComposed({ centralIssuer: CENTRAL, centralJwks: jwksUrl });
  });
  afterAll(async () => {
    await amp.close();
    jwks.closeAllConnections();
    await new Promise((r) => jwks.close(r));
  });

  const profile = (token: string) =>
    fetch(amp.url("/x/profile"), { headers: { authorization: `Bearer ${token}` } });

  it("accepts a token the central issuer signed, as its subject", async () => {
    const token = jwt(central.privateKey, "central-1", {
      iss: CENTRAL,
      aud: "http://amp.test",
      sub: "alice@remix",
    });
    const res = await profile(token);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: "alice@remix", anonymous: false, root: false });
    expect(fetches).toBeGreaterThan(0);
  });

  it("refuses a token from another issuer, one signed by another key, and one for another audience", async () => {
    const otherIssuer = jwt(central.privateKey, "central-1", {
      iss: "https://id.other.test",
      aud: "http://amp.test",
      sub: "mallory",
    });
    const otherKey = jwt(stranger.privateKey, "central-1", {
      iss: CENTRAL,
      aud: "http://amp.test",
      sub: "mallory",
    });
    const otherAudience = jwt(central.privateKey, "central-1", {
      iss: CENTRAL,
      aud: "https://elsewhere",
      sub: "mallory",
    });
    for (const token of [otherIssuer, otherKey, otherAudience]) {
      const res = await profile(token);
      expect(res.status).toBe(401);
      expect(await errorCode(res)).toMatch(/^token_/);
    }
  });

  it("config: the JWKS defaults to <issuer>/x/jwks.json; bad URLs and a JWKS without an issuer exit 2 naming the setting", async () => {
    const cl = loadConfig(["--central-issuer", CENTRAL], {});
    expect(!cl.help && cl.config.centralIssuer).toBe(CENTRAL);
    expect(() => loadConfig(["--central-issuer", "ftp://id.test"], {})).toThrow(/^--central-issuer: /);
    expect(() => loadConfig([], { RMX_CENTRAL_ISSUER: "http://id.example.com" })).toThrow(
      /^RMX_CENTRAL_ISSUER: .*https/,
    );
    expect(() => loadConfig(["--central-jwks", jwksUrl], {})).toThrow(
      /^--central-jwks: invalid value .*: only used with --central-issuer/,
    );
    const run = await runServe(["--central-issuer", "not a url"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--central-issuer/);
  });
});

describe("GCP KMS selected by --kms-key (fake GCP KMS)", () => {
  const KEY = "projects/p1/locations/global/keyRings/amp/cryptoKeys/secrets";
  let kms: FakeGcpKms;
  let dir: string;
  let credentialsFile: string;
  beforeAll(async () => {
    kms = await startFakeGcpKms(KEY);
    dir = mkdtempSync(join(tmpdir(), "amp-kms-"));
    credentialsFile = join(dir, "sa.json");
    writeFileSync(credentialsFile, JSON.stringify(kms.credentials));
  });
  afterAll(async () => {
    await kms.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("wraps the signing keys and secrets with KMS instead of the local keyring (fake GCP KMS)", async () => {
    const amp = await startComposed({
      kmsKey: KEY,
      kmsCredentials: credentialsFile,
      kmsEndpoint: kms.baseUrl,
    });
    try {
      // Signing keys were created at start and sealed through KMS; no local keyring exists.
      expect(kms.calls.token).toBeGreaterThan(0);
      expect(kms.calls.encrypt).toBeGreaterThan(0);
      expect(existsSync(join(amp.dataDir, KEYRING_FILE))).toBe(false);
      const provider = new GcpKmsProvider({
        keyName: KEY,
        credentials: kms.credentials,
        endpoint: kms.baseUrl,
      });
      const root = await createOperatorToken({ databaseDir: amp.dataDir, user: "root", provider });
      const auth = { authorization: `Bearer ${root}`, "content-type": "application/json" };
      expect(
        (await fetch(amp.url("/x/apps"), { method: "POST", headers: auth, body: '{"name":"vault"}' })).status,
      ).toBe(201);
      const before = kms.calls.encrypt;
      const set = await fetch(amp.url("/x/secrets/vault/api_key"), {
        method: "PUT",
        headers: auth,
        body: '{"value":"s3cret"}',
      });
      expect(set.status).toBe(200);
      expect(await set.json()).toMatchObject({ name: "api_key", provider: "gcp-kms", version: "1" });
      expect(kms.calls.encrypt).toBe(before + 1);

      // `amp token` in the server's environment opens the same KMS-sealed keys.
      const minted = await runBin(["token", "--user", "ops", "--database-dir", amp.dataDir], {
        RMX_KMS_KEY: KEY,
        RMX_KMS_CREDENTIALS: credentialsFile,
        RMX_KMS_ENDPOINT: kms.baseUrl,
      });
      expect(minted.code, minted.stderr).toBe(0);
      const ops = minted.stdout.trim().split("\n").at(-1);
      const profile = await fetch(amp.url("/x/profile"), { headers: { authorization: `Bearer ${ops}` } });
      expect(await profile.json()).toMatchObject({ id: "ops" });
    } finally {
      await amp.close();
    }
  });

  it("config: a bad key name, a missing or bad credentials file, a master key alongside, exit 2 naming the setting (fake GCP KMS)", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ client_email: "x" }));
    const insecure = join(dir, "insecure.json");
    writeFileSync(
      insecure,
      JSON.stringify({ ...kms.credentials, token_uri: "http://oauth.example.com/token" }),
    );
    const cases: [string[], Record<string, string>, RegExp][] = [
      [["--kms-key", "projects/p1/cryptoKeys/k"], {}, /^--kms-key: invalid value .*projects\/<p>/],
      [["--kms-key", KEY], {}, /^--kms-credentials: required with --kms-key/],
      [
        ["--kms-key", KEY, "--kms-credentials", join(dir, "absent.json")],
        {},
        /^--kms-credentials: invalid value .*ENOENT/,
      ],
      [
        ["--kms-key", KEY, "--kms-credentials", bad],
        {},
        /^--kms-credentials: invalid value .*client_email and private_key/,
      ],
      [
        ["--kms-key", KEY, "--kms-credentials", insecure],
        {},
        /^--kms-credentials: invalid value .*its token_uri must be https/,
      ],
      [
        ["--kms-credentials", credentialsFile],
        {},
        /^--kms-credentials: invalid value .*: only used with --kms-key/,
      ],
      [
        ["--kms-key", KEY, "--kms-credentials", credentialsFile],
        { RMX_KMS_ENDPOINT: "http://kms.example.com" },
        /^RMX_KMS_ENDPOINT: /,
      ],
      [
        ["--kms-key", KEY, "--kms-credentials", credentialsFile],
        { RMX_MASTER_KEY: "m".repeat(40) },
        /^RMX_MASTER_KEY: .*--kms-key/,
      ],
    ];
    for (const [argv, env, message] of cases) expect(() => loadConfig(argv, env)).toThrow(message);
    const ok = loadConfig([], {
      RMX_KMS_KEY: KEY,
      RMX_KMS_CREDENTIALS: credentialsFile,
      RMX_KMS_ENDPOINT: kms.baseUrl,
    });
    expect(!ok.help && ok.config.kmsKey).toBe(KEY);
    const run = await runServe(["--kms-key", "nope"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^amp: --kms-key: /);
  });

  it("a server whose KMS cannot be reached does not start (fake GCP KMS)", async () => {
    await expect(
      startComposed({ kmsKey: KEY, kmsCredentials: credentialsFile, kmsEndpoint: "http://127.0.0.1:1" }),
    ).rejects.toThrow(/KMS|reach/);
  });
});
