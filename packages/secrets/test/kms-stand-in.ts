import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
} from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { jwtVerify } from "jose";

/**
 * A local HTTP stand-in for Google Cloud KMS (encrypt, decrypt, get key, create version,
 * update primary) and Google's OAuth2 JWT-bearer token endpoint. GCP cannot be reached
 * from tests; this speaks the same REST shapes.
 */
export async function startKmsStandIn(keyName: string) {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const clientEmail = "amp@test-project.iam.gserviceaccount.com";
  const versions = new Map<string, Buffer>([["1", randomBytes(32)]]);
  let primary = "1";
  const tokens = new Set<string>();
  const stats = { tokenRequests: 0, encrypts: 0, decrypts: 0 };
  let baseUrl = "";

  const app = new Hono();
  app.post("/token", async (c) => {
    stats.tokenRequests++;
    const form = new URLSearchParams(await c.req.text());
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      return c.json({ error: "unsupported_grant_type" }, 400);
    }
    try {
      const { payload } = await jwtVerify(form.get("assertion") ?? "", createPublicKey(publicKey), {
        issuer: clientEmail,
        audience: `${baseUrl}/token`,
        algorithms: ["RS256"],
      });
      if (payload.scope !== "https://www.googleapis.com/auth/cloudkms") throw new Error("scope");
    } catch {
      return c.json({ error: "invalid_grant" }, 400);
    }
    const token = randomUUID();
    tokens.add(token);
    return c.json({ access_token: token, token_type: "Bearer", expires_in: 3600 });
  });

  const kms = new Hono();
  kms.use("*", async (c, next) => {
    const bearer = c.req.header("authorization")?.replace(/^Bearer /, "");
    if (!bearer || !tokens.has(bearer))
      return c.json({ error: { code: 401, status: "UNAUTHENTICATED" } }, 401);
    await next();
  });
  const keyPath = `/v1/${keyName}`;
  kms.get(keyPath, (c) =>
    c.json({ name: keyName, primary: { name: `${keyName}/cryptoKeyVersions/${primary}`, state: "ENABLED" } }),
  );
  kms.post(`${keyPath}/cryptoKeyVersions`, (c) => {
    const id = String(versions.size + 1);
    versions.set(id, randomBytes(32));
    return c.json({ name: `${keyName}/cryptoKeyVersions/${id}`, state: "ENABLED" });
  });
  kms.post("/v1/*", async (c) => {
    const [path, verb] = new URL(c.req.url).pathname.split(":");
    if (path !== keyPath) return c.json({ error: { code: 404, status: "NOT_FOUND" } }, 404);
    const body = await c.req.json();
    const aad = Buffer.from(body.additionalAuthenticatedData ?? "", "base64");
    if (verb === "encrypt") {
      stats.encrypts++;
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", versions.get(primary)!, iv);
      cipher.setAAD(aad);
      const ct = Buffer.concat([cipher.update(Buffer.from(body.plaintext, "base64")), cipher.final()]);
      const blob = Buffer.concat([Buffer.from([Number(primary)]), iv, ct, cipher.getAuthTag()]);
      return c.json({ name: `${keyName}/cryptoKeyVersions/${primary}`, ciphertext: blob.toString("base64") });
    }
    if (verb === "decrypt") {
      stats.decrypts++;
      const blob = Buffer.from(body.ciphertext, "base64");
      const key = versions.get(String(blob[0]));
      try {
        const decipher = createDecipheriv("aes-256-gcm", key!, blob.subarray(1, 13));
        decipher.setAAD(aad);
        decipher.setAuthTag(blob.subarray(blob.length - 16));
        const pt = Buffer.concat([decipher.update(blob.subarray(13, blob.length - 16)), decipher.final()]);
        return c.json({ plaintext: pt.toString("base64") });
      } catch {
        return c.json(
          { error: { code: 400, message: "Decryption failed", status: "INVALID_ARGUMENT" } },
          400,
        );
      }
    }
    if (verb === "updatePrimaryVersion") {
      if (!versions.has(body.cryptoKeyVersionId)) return c.json({ error: { code: 400 } }, 400);
      primary = body.cryptoKeyVersionId;
      return c.json({ name: keyName, primary: { name: `${keyName}/cryptoKeyVersions/${primary}` } });
    }
    return c.json({ error: { code: 404 } }, 404);
  });
  app.route("/", kms);

  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    stats,
    credentials: { client_email: clientEmail, private_key: privateKey, token_uri: `${baseUrl}/token` },
    revokeAllTokens: () => tokens.clear(),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
