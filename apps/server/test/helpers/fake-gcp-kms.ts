import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomUUID,
  verify,
} from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A FAKE Google Cloud KMS on loopback (the one fake the server tests use: GCP cannot be reached
 * from here). It speaks the REST shapes `GcpKmsProvider` calls: the OAuth2 JWT-bearer token
 * endpoint (the assertion's RS256 signature is checked against the service account's key), and
 * `GET <key>`, `POST <key>:encrypt`, `POST <key>:decrypt` with additional authenticated data.
 */
export async function startFakeGcpKms(keyName: string) {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const clientEmail = "amp@fake-project.iam.gserviceaccount.com";
  const kek = randomBytes(32);
  const tokens = new Set<string>();
  const calls = { token: 0, encrypt: 0, decrypt: 0, get: 0 };
  let baseUrl = "";

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const read = async (req: IncomingMessage) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    return text;
  };
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (req.method === "POST" && path === "/token") {
      calls.token++;
      const form = new URLSearchParams(await read(req));
      const [h, p, s] = (form.get("assertion") ?? "").split(".");
      const signed =
        h &&
        p &&
        s &&
        verify(
          "RSA-SHA256",
          Buffer.from(`${h}.${p}`),
          createPublicKey(publicKey),
          Buffer.from(s, "base64url"),
        );
      const claims = signed ? JSON.parse(Buffer.from(p, "base64url").toString()) : {};
      if (!signed || claims.iss !== clientEmail) return send(res, 400, { error: "invalid_grant" });
      const token = randomUUID();
      tokens.add(token);
      return send(res, 200, { access_token: token, token_type: "Bearer", expires_in: 3600 });
    }
    if (!tokens.has((req.headers.authorization ?? "").replace(/^Bearer /, ""))) {
      return send(res, 401, { error: { code: 401, status: "UNAUTHENTICATED" } });
    }
    const [resource, verb] = decodeURIComponent(path)
      .replace(/^\/v1\//, "")
      .split(":");
    if (resource !== keyName) return send(res, 404, { error: { code: 404, status: "NOT_FOUND" } });
    const version = `${keyName}/cryptoKeyVersions/1`;
    if (req.method === "GET" && verb === undefined) {
      calls.get++;
      return send(res, 200, { name: keyName, primary: { name: version, state: "ENABLED" } });
    }
    const body = JSON.parse((await read(req)) || "{}");
    const aad = Buffer.from(body.additionalAuthenticatedData ?? "", "base64");
    if (verb === "encrypt") {
      calls.encrypt++;
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", kek, iv).setAAD(aad);
      const ct = Buffer.concat([cipher.update(Buffer.from(body.plaintext, "base64")), cipher.final()]);
      const blob = Buffer.concat([iv, ct, cipher.getAuthTag()]);
      return send(res, 200, { name: version, ciphertext: blob.toString("base64") });
    }
    if (verb === "decrypt") {
      calls.decrypt++;
      const blob = Buffer.from(body.ciphertext, "base64");
      try {
        const decipher = createDecipheriv("aes-256-gcm", kek, blob.subarray(0, 12)).setAAD(aad);
        decipher.setAuthTag(blob.subarray(blob.length - 16));
        const pt = Buffer.concat([decipher.update(blob.subarray(12, blob.length - 16)), decipher.final()]);
        return send(res, 200, { plaintext: pt.toString("base64") });
      } catch {
        return send(res, 400, { error: { code: 400, status: "INVALID_ARGUMENT" } });
      }
    }
    return send(res, 404, { error: { code: 404 } });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    calls,
    credentials: {
      type: "service_account",
      client_email: clientEmail,
      private_key: privateKey,
      token_uri: `${baseUrl}/token`,
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
