import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
} from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { jwtVerify } from "jose";
import { startLoopbackServer } from "./loopback.js";

/** A running fake GCP KMS: where it listens, what it was asked, and the service account to use. */
export interface FakeGcpKms {
  readonly baseUrl: string;
  /** Requests served so far, by kind. */
  readonly calls: { token: number; get: number; encrypt: number; decrypt: number; createVersion: number };
  /** A service-account JSON key for it (`token_uri` points at the fake). */
  readonly credentials: {
    type: "service_account";
    client_email: string;
    private_key: string;
    token_uri: string;
  };
  /** Forgets every access token it issued, as when Google expires them. */
  revokeAllTokens(): void;
  close(): Promise<void>;
}

/**
 * A FAKE Google Cloud KMS on loopback: GCP cannot be reached from tests, so the secrets package
 * and the server both talk to this. It speaks the REST shapes `GcpKmsProvider` calls: Google's
 * OAuth2 JWT-bearer token endpoint (the assertion's RS256 signature, issuer, audience and scope
 * are checked), and for `keyName` `GET`, `:encrypt`, `:decrypt` (with additional authenticated
 * data), `POST …/cryptoKeyVersions` and `:updatePrimaryVersion`.
 */
export async function startFakeGcpKms(keyName: string): Promise<FakeGcpKms> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const clientEmail = "amp@fake-project.iam.gserviceaccount.com";
  const versions = new Map<string, Buffer>([["1", randomBytes(32)]]);
  let primary = "1";
  const tokens = new Set<string>();
  const calls = { token: 0, get: 0, encrypt: 0, decrypt: 0, createVersion: 0 };
  let baseUrl = "";
  const versionName = (id: string) => `${keyName}/cryptoKeyVersions/${id}`;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const read = async (req: IncomingMessage) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    return text;
  };

  const token = async (req: IncomingMessage, res: ServerResponse) => {
    calls.token++;
    const form = new URLSearchParams(await read(req));
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      return send(res, 400, { error: "unsupported_grant_type" });
    }
    try {
      const { payload } = await jwtVerify(form.get("assertion") ?? "", createPublicKey(publicKey), {
        issuer: clientEmail,
        audience: `${baseUrl}/token`,
        algorithms: ["RS256"],
      });
      if (payload.scope !== "https://www.googleapis.com/auth/cloudkms") throw new Error("scope");
    } catch {
      return send(res, 400, { error: "invalid_grant" });
    }
    const issued = randomUUID();
    tokens.add(issued);
    return send(res, 200, { access_token: issued, token_type: "Bearer", expires_in: 3600 });
  };

  const kms = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (!tokens.has((req.headers.authorization ?? "").replace(/^Bearer /, ""))) {
      return send(res, 401, { error: { code: 401, status: "UNAUTHENTICATED" } });
    }
    const [resource, verb] = decodeURIComponent(path)
      .replace(/^\/v1\//, "")
      .split(":");
    if (req.method === "GET" && resource === keyName && verb === undefined) {
      calls.get++;
      return send(res, 200, { name: keyName, primary: { name: versionName(primary), state: "ENABLED" } });
    }
    if (req.method === "POST" && resource === `${keyName}/cryptoKeyVersions` && verb === undefined) {
      calls.createVersion++;
      const id = String(versions.size + 1);
      versions.set(id, randomBytes(32));
      return send(res, 200, { name: versionName(id), state: "ENABLED" });
    }
    if (req.method !== "POST" || resource !== keyName) {
      return send(res, 404, { error: { code: 404, status: "NOT_FOUND" } });
    }
    const body = JSON.parse((await read(req)) || "{}");
    const aad = Buffer.from(body.additionalAuthenticatedData ?? "", "base64");
    if (verb === "encrypt") {
      calls.encrypt++;
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", versions.get(primary)!, iv).setAAD(aad);
      const ct = Buffer.concat([cipher.update(Buffer.from(body.plaintext, "base64")), cipher.final()]);
      const blob = Buffer.concat([Buffer.from([Number(primary)]), iv, ct, cipher.getAuthTag()]);
      return send(res, 200, { name: versionName(primary), ciphertext: blob.toString("base64") });
    }
    if (verb === "decrypt") {
      calls.decrypt++;
      const blob = Buffer.from(body.ciphertext, "base64");
      try {
        const key = versions.get(String(blob[0]));
        const decipher = createDecipheriv("aes-256-gcm", key!, blob.subarray(1, 13)).setAAD(aad);
        decipher.setAuthTag(blob.subarray(blob.length - 16));
        const pt = Buffer.concat([decipher.update(blob.subarray(13, blob.length - 16)), decipher.final()]);
        return send(res, 200, { plaintext: pt.toString("base64") });
      } catch {
        return send(res, 400, {
          error: { code: 400, message: "Decryption failed", status: "INVALID_ARGUMENT" },
        });
      }
    }
    if (verb === "updatePrimaryVersion") {
      if (!versions.has(body.cryptoKeyVersionId)) return send(res, 400, { error: { code: 400 } });
      primary = body.cryptoKeyVersionId;
      return send(res, 200, { name: keyName, primary: { name: versionName(primary) } });
    }
    return send(res, 404, { error: { code: 404 } });
  };

  const server = await startLoopbackServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const answer = req.method === "POST" && path === "/token" ? token(req, res) : kms(req, res, path);
    answer.catch(() => send(res, 500, { error: { code: 500 } }));
  });
  baseUrl = server.url();
  return {
    baseUrl,
    calls,
    credentials: {
      type: "service_account",
      client_email: clientEmail,
      private_key: privateKey,
      token_uri: `${baseUrl}/token`,
    },
    revokeAllTokens: () => tokens.clear(),
    close: () => server.close(),
  };
}
