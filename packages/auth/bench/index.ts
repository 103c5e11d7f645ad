/**
 * Token verification through our middleware vs bare jose.jwtVerify with the same key,
 * and the token issue rate, in one run. Then @amp/secrets' envelope vs raw AES-GCM.
 * Run: pnpm --filter @amp/auth bench
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Secrets } from "@amp/secrets";
import { Hono } from "hono";
import { importJWK, type JWK, jwtVerify, SignJWT } from "jose";
import { AUTH_VAULT_APP, type AuthVariables, authMiddleware, TokenService } from "../src/index.js";

const DURATION_MS = Number(process.env.BENCH_MS ?? 4000);
const BATCH = 50;

/**
 * Operations per second of each case. The cases take turns in small batches for the
 * whole duration, so load from other processes on a shared machine hits all alike.
 */
async function measure(
  cases: Record<string, () => Promise<unknown>>,
  concurrent = true,
): Promise<Record<string, number>> {
  const entries = Object.entries(cases);
  for (const [, fn] of entries) for (let i = 0; i < 200; i++) await fn(); // warm up
  const spent = new Map(entries.map(([name]) => [name, 0]));
  const done = new Map(entries.map(([name]) => [name, 0]));
  const end = performance.now() + DURATION_MS * entries.length;
  while (performance.now() < end) {
    for (const [name, fn] of entries) {
      const start = performance.now();
      // Concurrent batches measure throughput, as a server sees it; sequential ones single-call latency.
      if (concurrent) await Promise.all(Array.from({ length: BATCH }, fn));
      else for (let i = 0; i < BATCH; i++) await fn();
      spent.set(name, spent.get(name)! + performance.now() - start);
      done.set(name, done.get(name)! + BATCH);
    }
  }
  const rates: Record<string, number> = {};
  for (const [name] of entries) {
    rates[name] = (done.get(name)! * 1000) / spent.get(name)!;
    console.log(`  ${name.padEnd(44)} ${Math.round(rates[name]).toLocaleString("en").padStart(9)} ops/s`);
  }
  return rates;
}

const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(0)}%`;

const dir = mkdtempSync(join(tmpdir(), "amp-auth-bench-"));
const secrets = new Secrets({ databaseDir: dir });
const tokens = await TokenService.open({ databaseDir: dir, vault: secrets.scoped(AUTH_VAULT_APP) });
try {
  const token = await tokens.issue("alice", { claims: { roles: ["builder"] } });
  const jwk = tokens.jwks().keys[0] as JWK;
  const publicKey = await importJWK(jwk, "EdDSA");
  const stored = JSON.parse((await secrets.scoped(AUTH_VAULT_APP).get("signing-keys"))!) as {
    keys: Array<{ privateJwk: JWK }>;
  };
  const privateKey = await importJWK(stored.keys[0]!.privateJwk, "EdDSA");

  const verifyOptions = { issuer: tokens.issuer, audience: tokens.audience, algorithms: ["EdDSA"] };
  const app = new Hono<{ Variables: AuthVariables }>();
  app.use("*", authMiddleware({ tokens }));
  app.get("/", (c) => c.text(c.get("user").id));
  const bare = new Hono();
  bare.get("/", (c) => c.text("alice"));
  // The peer for the middleware: the same Hono request with bare jwtVerify in place of ours.
  const joseOnly = new Hono();
  joseOnly.use("*", async (c, next) => {
    await jwtVerify(c.req.header("authorization")!.slice(7), publicKey, verifyOptions);
    await next();
  });
  joseOnly.get("/", (c) => c.text("alice"));
  const headers = { authorization: `Bearer ${token}` };

  const verifyCases = {
    "bare jose.jwtVerify": () => jwtVerify(token, publicKey, verifyOptions),
    "TokenService.verify": () => tokens.verify(token),
    "Hono request through authMiddleware": async () => app.request("/", { headers }),
    "Hono request, bare jwtVerify middleware": async () => joseOnly.request("/", { headers }),
    "Hono request, no auth (routing cost alone)": async () => bare.request("/", { headers }),
  };
  for (const concurrent of [true, false]) {
    const mode = concurrent ? `${BATCH} in flight` : "one at a time";
    console.log(`verify, EdDSA, ${mode} (cases take turns in batches of ${BATCH}, ${DURATION_MS} ms each)`);
    const v = await measure(verifyCases, concurrent);
    const bareRate = v["bare jose.jwtVerify"]!;
    console.log(`  TokenService.verify / bare jwtVerify:    ${pct(v["TokenService.verify"]!, bareRate)}`);
    console.log(
      `  middleware request / bare jwtVerify:     ${pct(v["Hono request through authMiddleware"]!, bareRate)} (target >= 80%)`,
    );
    console.log(
      `  middleware request / Hono + bare jwtVerify: ${pct(v["Hono request through authMiddleware"]!, v["Hono request, bare jwtVerify middleware"]!)}`,
    );
  }

  console.log("issue");
  const i = await measure({
    "bare jose SignJWT (same claims)": () => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ auth_time: now })
        .setProtectedHeader({ alg: "EdDSA", kid: jwk.kid!, typ: "at+jwt" })
        .setIssuer(tokens.issuer)
        .setAudience(tokens.audience)
        .setSubject("alice")
        .setJti(crypto.randomUUID())
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + 3600)
        .sign(privateKey);
    },
    "TokenService.issue": () => tokens.issue("alice"),
  });
  console.log(
    `  TokenService.issue / bare SignJWT:       ${pct(i["TokenService.issue"]!, i["bare jose SignJWT (same claims)"]!)}`,
  );
} finally {
  await tokens.close();
  await secrets.close();
  rmSync(dir, { recursive: true, force: true });
}
