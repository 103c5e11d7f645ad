import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Provider from "oidc-provider";
import { makeLoopbackCertificate } from "./loopback-certificate.js";

/**
 * A real `oidc-provider` on a free loopback port, with its dev login and consent forms: over TLS
 * on https://localhost:<port>, or (`tls: false`, for a client that allows plain http) on
 * http://127.0.0.1:<port>.
 */
export interface TestOidcProvider {
  /** The plugin configuration's `issuer`. */
  readonly issuer: string;
  /** The self-signed certificate's PEM file (NODE_EXTRA_CA_CERTS for amp processes); none without TLS. */
  readonly caFile: string | undefined;
  /**
   * Follows an authorization URL (the `Location` amp's login start answered) through the
   * provider's login and consent forms as `user`, without a browser; answers the redirect to
   * the client's callback (`<redirect_uri>?code=…&state=…`).
   */
  login(authorizationUrl: string, user: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts the provider, by default over TLS (amp's login plugins call providers over https only),
 * with a certificate for localhost and 127.0.0.1 made here with the `openssl` CLI.
 */
export async function startOidcProvider(
  client: { clientId: string; clientSecret: string; redirectUris: string[] },
  options: { tls?: boolean } = {},
): Promise<TestOidcProvider> {
  const dir = mkdtempSync(join(tmpdir(), "amp-oidc-"));
  let ca: Buffer | undefined;
  let caFile: string | undefined;
  let key: Buffer | undefined;
  if (options.tls !== false) {
    const certificate = await makeLoopbackCertificate(dir);
    caFile = certificate.certFile;
    ca = readFileSync(caFile);
    key = readFileSync(certificate.keyFile);
  }
  const server = ca ? https.createServer({ key, cert: ca }) : http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = ca ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        redirect_uris: client.redirectUris,
        grant_types: ["authorization_code"],
        response_types: ["code"],
      },
    ],
    claims: { openid: ["sub"], email: ["email", "email_verified"] },
    findAccount: (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: () => ({ sub: id, email: `${id}@example.test`, email_verified: true }),
    }),
    cookies: { keys: ["test-cookie-key"] },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
    features: { devInteractions: { enabled: true } },
  });
  server.on("request", provider.callback());

  /** One request to the provider, cookies from `jar` in and out; redirects are not followed. */
  const send = (url: URL, jar: Map<string, string>, form?: Record<string, string>) =>
    new Promise<{ status: number; location?: string; body: string }>((resolve, reject) => {
      const body = form ? new URLSearchParams(form).toString() : undefined;
      const req = (ca ? https.request : http.request)(
        url,
        {
          method: form ? "POST" : "GET",
          ...(ca ? { ca } : {}),
          headers: {
            cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; "),
            ...(body ? { "content-type": "application/x-www-form-urlencoded" } : {}),
          },
        },
        (res) => {
          for (const cookie of res.headers["set-cookie"] ?? []) {
            const [pair] = cookie.split(";");
            const at = pair!.indexOf("=");
            jar.set(pair!.slice(0, at), pair!.slice(at + 1));
          }
          let text = "";
          res.on("data", (chunk) => (text += chunk));
          res.on("end", () =>
            resolve({
              status: res.statusCode!,
              body: text,
              ...(res.headers.location ? { location: res.headers.location } : {}),
            }),
          );
        },
      );
      req.on("error", reject);
      req.end(body);
    });

  return {
    issuer,
    caFile,
    async login(authorizationUrl, user) {
      const jar = new Map<string, string>();
      let url = new URL(authorizationUrl);
      let form: Record<string, string> | undefined;
      for (let step = 0; step < 12; step++) {
        const res = await send(url, jar, form);
        form = undefined;
        if (res.location) {
          const next = new URL(res.location, url);
          if (next.origin !== issuer) return next.href;
          url = next;
        } else if (res.status === 200 && url.pathname.startsWith("/interaction/")) {
          // The dev forms post back to the same URL: first the login, then the consent.
          const prompt = /name="prompt" value="(\w+)"/.exec(res.body)?.[1] ?? "login";
          form = prompt === "login" ? { prompt, login: user, password: "any" } : { prompt };
        } else {
          throw new Error(
            `oidc-provider answered ${res.status} at ${url.pathname}: ${res.body.slice(0, 200)}`,
          );
        }
      }
      throw new Error("oidc-provider did not redirect back to the client");
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
