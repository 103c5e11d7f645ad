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

const ROUND_MS = Number(process.env.BENCH_MS ?? 1000);
const ROUNDS = 3;

/** Operations per second of `fn`, best of interleaved rounds (noise on a shared machine only slows things). */
async function measure(cases: Record<string, () => Promise<unknown>>): Promise<Record<string, number>> {
  const best: Record<string, number> = {};
  for (const fn of Object.values(cases)) for (let i = 0; i < 200; i++) await fn();
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fn] of Object.entries(cases)) {
      let n = 0;
      const start = performance.now();
      while (performance.now() - start < ROUND_MS) {
        for (let i = 0; i < 50; i++) await fn();
        n += 50;
      }
      best[name] = Math.max(best[name] ?? 0, (n * 1000) / (performance.now() - start));
    }
    console.log(`  round ${round + 1}/${ROUNDS} done`);
  }
  for (const [name, rate] of Object.entries(best)) {
    console.log(`  ${name.padEnd(44)} ${Math.round(rate).toLocaleString("en").padStart(9)} ops/s`);
  }
  return best;
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

  const app = new Hono<{ Variables: AuthVariables }>();
  app.use("*", authMiddleware({ tokens }));
  app.get("/", (c) => c.text(c.get("user").id));
  const bare = new Hono();
  bare.get("/", (c) => c.text("alice"));
  const headers = { authorization: `Bearer ${token}` };
  const verifyOptions = { issuer: tokens.issuer, audience: tokens.audience, algorithms: ["EdDSA"] };

  console.log(`verify (EdDSA, ${ROUNDS} interleaved rounds of ${ROUND_MS} ms, best round)`);
  const v = await measure({
    "bare jose.jwtVerify": () => jwtVerify(token, publicKey, verifyOptions),
    "TokenService.verify": () => tokens.verify(token),
    "Hono request through authMiddleware": () => app.request("/", { headers }),
    "Hono request, no auth (routing cost alone)": () => bare.request("/", { headers }),
  });
  console.log(
    `  TokenService.verify / bare jwtVerify:    ${pct(v["TokenService.verify"]!, v["bare jose.jwtVerify"]!)}`,
  );
  console.log(
    `  middleware request / bare jwtVerify:     ${pct(v["Hono request through authMiddleware"]!, v["bare jose.jwtVerify"]!)} (target >= 80%)`,
  );

  console.log("issue");
  const i = await measure({
    "bare jose SignJWT": () =>
      new SignJWT({ sub: "alice" })
        .setProtectedHeader({ alg: "EdDSA" })
        .setIssuedAt()
        .setExpirationTime("1h")
        .sign(privateKey),
    "TokenService.issue": () => tokens.issue("alice"),
  });
  console.log(
    `  TokenService.issue / bare SignJWT:       ${pct(i["TokenService.issue"]!, i["bare jose SignJWT"]!)}`,
  );
} finally {
  await tokens.close();
  await secrets.close();
  rmSync(dir, { recursive: true, force: true });
}
