/**
 * What one request's token check costs, in one run:
 * - uncached: jose's `jwtVerify` (WebCrypto) against the same check with `node:crypto` KeyObjects
 *   (`compact-jws.ts`, what TokenService now uses for its own tokens), EdDSA and ES256;
 * - TokenService.verify uncached (cache off) and cached (a token seen before);
 * - a Hono request through `authMiddleware`, uncached and cached, beside the same route without auth.
 * Cases take turns in batches, so load from other processes hits them alike; ratios are printed.
 * Run: pnpm --filter @amp/auth bench:verify   (BENCH_MS per case, default 3000)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Secrets } from "@amp/secrets";
import { Hono } from "hono";
import { importJWK, type JWK, jwtVerify } from "jose";
import { publicKeyObject, signatureVerifies, splitJws, verifiedClaims } from "../src/compact-jws.js";
import { AUTH_VAULT_APP, type AuthVariables, authMiddleware, TokenService } from "../src/index.js";

const DURATION_MS = Number(process.env.BENCH_MS ?? 3000);
const BATCH = 50;

interface Rate {
  opsPerSecond: number;
  /** Process CPU (all threads: WebCrypto runs on libuv's pool) per operation, µs. */
  cpuMicros: number;
}

async function measure(cases: Record<string, () => unknown>): Promise<Record<string, Rate>> {
  const entries = Object.entries(cases);
  for (const [, fn] of entries) for (let i = 0; i < 300; i++) await fn(); // warm up
  const spent = new Map(entries.map(([name]) => [name, 0]));
  const cpu = new Map(entries.map(([name]) => [name, 0]));
  const done = new Map(entries.map(([name]) => [name, 0]));
  const end = performance.now() + DURATION_MS * entries.length;
  while (performance.now() < end) {
    for (const [name, fn] of entries) {
      const c0 = process.cpuUsage();
      const start = performance.now();
      for (let i = 0; i < BATCH; i++) await fn(); // one at a time: the cost of one request's check
      spent.set(name, spent.get(name)! + performance.now() - start);
      const c = process.cpuUsage(c0);
      cpu.set(name, cpu.get(name)! + c.user + c.system);
      done.set(name, done.get(name)! + BATCH);
    }
  }
  const rates: Record<string, Rate> = {};
  for (const [name] of entries) {
    const n = done.get(name)!;
    rates[name] = { opsPerSecond: (n * 1000) / spent.get(name)!, cpuMicros: cpu.get(name)! / n };
    console.log(
      `  ${name.padEnd(52)} ${Math.round(rates[name].opsPerSecond).toLocaleString("en").padStart(9)} /s` +
        `  ${((1e6 / rates[name].opsPerSecond) | 0).toString().padStart(5)} µs wall` +
        `  ${rates[name].cpuMicros.toFixed(1).padStart(6)} µs CPU`,
    );
  }
  return rates;
}

const x = (a: Rate, b: Rate) => `${(a.opsPerSecond / b.opsPerSecond).toFixed(2)}×`;
/** Requests per CPU-second of `a` as a share of `b`'s: robust to other processes' load. */
const cpuShare = (a: Rate, b: Rate) => `${((b.cpuMicros / a.cpuMicros) * 100).toFixed(0)}%`;

const dirs: string[] = [];
const closers: Array<() => Promise<void>> = [];
async function open(options: { algorithm?: "EdDSA" | "ES256"; verifiedTokenCacheSize?: number }) {
  const dir = mkdtempSync(join(tmpdir(), "amp-auth-verify-bench-"));
  dirs.push(dir);
  const secrets = new Secrets({ databaseDir: dir });
  const tokens = await TokenService.open({
    databaseDir: dir,
    vault: secrets.scoped(AUTH_VAULT_APP),
    issuer: "https://amp.example",
    ...options,
  });
  closers.push(
    () => tokens.close(),
    () => secrets.close(),
  );
  return tokens;
}

try {
  const summary: string[] = [];
  for (const alg of ["EdDSA", "ES256"] as const) {
    const tokens = await open({ algorithm: alg });
    const uncached = await open({ algorithm: alg, verifiedTokenCacheSize: 0 });
    const token = await tokens.issue("alice", { claims: { roles: ["builder"] } });
    const uncachedToken = await uncached.issue("alice", { claims: { roles: ["builder"] } });
    const jwk = tokens.jwks().keys[0] as JWK;
    const cryptoKey = await importJWK(jwk, alg); // a WebCrypto CryptoKey, as jose uses it
    const keyObject = publicKeyObject(jwk);
    const rules = { issuer: tokens.issuer, audience: tokens.audience, typ: "at+jwt" };
    const verifyOptions = { ...rules, algorithms: [alg], clockTolerance: 30 };
    const claimsRules = { ...rules, requiredClaims: ["sub", "exp", "iat", "jti"], clockSkewSeconds: 30 };
    const nodeVerify = () => {
      const jws = splitJws(token);
      if (!signatureVerifies(jws, alg, keyObject)) throw new Error("signature");
      return verifiedClaims(jws, { ...claimsRules, now: Math.floor(Date.now() / 1000) });
    };

    const app = (t: TokenService) => {
      const h = new Hono<{ Variables: AuthVariables }>();
      h.use("*", authMiddleware({ tokens: t }));
      h.get("/", (c) => c.text(c.get("user").id));
      return h;
    };
    const cachedApp = app(tokens);
    const uncachedApp = app(uncached);
    const bare = new Hono();
    bare.get("/", (c) => c.text("alice"));
    const headers = { authorization: `Bearer ${token}` };
    const uncachedHeaders = { authorization: `Bearer ${uncachedToken}` };

    console.log(`${alg}: one verification at a time (batches of ${BATCH}, ${DURATION_MS} ms a case)`);
    const r = await measure({
      "jose.jwtVerify (WebCrypto), uncached": () => jwtVerify(token, cryptoKey, verifyOptions),
      "node:crypto KeyObject + same claim checks, uncached": nodeVerify,
      "TokenService.verify, cache off": () => uncached.verify(uncachedToken),
      "TokenService.verify, cached": () => tokens.verify(token),
      "Hono request, authMiddleware, cache off": () => uncachedApp.request("/", { headers: uncachedHeaders }),
      "Hono request, authMiddleware, cached": () => cachedApp.request("/", { headers }),
      "Hono request, no auth": () => bare.request("/", { headers }),
    });
    const jose = r["jose.jwtVerify (WebCrypto), uncached"]!;
    const node = r["node:crypto KeyObject + same claim checks, uncached"]!;
    const svcOff = r["TokenService.verify, cache off"]!;
    const svcOn = r["TokenService.verify, cached"]!;
    const mwOff = r["Hono request, authMiddleware, cache off"]!;
    const mwOn = r["Hono request, authMiddleware, cached"]!;
    const noAuth = r["Hono request, no auth"]!;
    const lines = [
      `${alg}: node:crypto / jose uncached: ${x(node, jose)} the rate (CPU ${jose.cpuMicros.toFixed(1)} → ${node.cpuMicros.toFixed(1)} µs)`,
      `${alg}: TokenService.verify cached / cache off: ${x(svcOn, svcOff)}; cached / jose uncached: ${x(svcOn, jose)}`,
      `${alg}: request with authMiddleware cached / cache off: ${x(mwOn, mwOff)}; cached / no auth: ${((mwOn.opsPerSecond / noAuth.opsPerSecond) * 100).toFixed(0)}% (by CPU ${cpuShare(mwOn, noAuth)}); cache off / no auth: ${((mwOff.opsPerSecond / noAuth.opsPerSecond) * 100).toFixed(0)}% (by CPU ${cpuShare(mwOff, noAuth)})`,
    ];
    for (const line of lines) console.log(`  ${line}`);
    summary.push(...lines);
  }
  console.log("\nsummary");
  for (const line of summary) console.log(`  ${line}`);
} finally {
  for (const close of closers.reverse()) await close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}
