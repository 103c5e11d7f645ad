import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import type { AmpUser } from "@amp/auth";
import { exportJWK, generateKeyPair, type JWK, jwtVerify, SignJWT } from "jose";
import pino from "pino";
import type { AppRole, AppRoles, TokenVerifier } from "../src/index.js";
import { Broker, type BrokerOptions } from "../src/index.js";

export const silentLogger = pino({ level: process.env.AMP_TEST_LOG ?? "silent" });

/** Real Ed25519 JWTs: signs tokens and verifies them with jose (the shape @amp/auth's verifier has). */
type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

export class TestTokens implements TokenVerifier {
  private constructor(
    private readonly privateKey: KeyPair["privateKey"],
    private readonly publicKey: KeyPair["publicKey"],
  ) {}

  static async create(): Promise<TestTokens> {
    const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    return new TestTokens(privateKey, publicKey);
  }

  publicJwk(): Promise<JWK> {
    return exportJWK(this.publicKey);
  }

  sign(
    user: string,
    expiresIn: string | number = "1h",
    claims: Record<string, unknown> = {},
  ): Promise<string> {
    return new SignJWT({ ...claims, root: user === "root" })
      .setProtectedHeader({ alg: "EdDSA" })
      .setSubject(user)
      .setIssuer("amp-test")
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(this.privateKey);
  }

  async verify(token: string): Promise<AmpUser> {
    const { payload } = await jwtVerify(token, this.publicKey, { issuer: "amp-test", algorithms: ["EdDSA"] });
    if (!payload.sub) throw new Error("token has no subject");
    return { id: payload.sub, anonymous: false, root: payload.root === true, claims: payload };
  }
}

/** App roles granted per (user, app): the shape @amp/apps answers. */
export class RoleTable implements AppRoles {
  readonly #grants = new Map<string, Set<AppRole>>();
  grant(user: string, app: string, ...roles: AppRole[]): this {
    const key = `${user}\u0000${app}`;
    const set = this.#grants.get(key) ?? new Set();
    for (const role of roles) set.add(role);
    this.#grants.set(key, set);
    return this;
  }
  can(user: AmpUser, app: string, role: AppRole): boolean {
    return this.#grants.get(`${user.id}\u0000${app}`)?.has(role) ?? false;
  }
}

export async function startBroker(
  overrides: Partial<BrokerOptions> & Pick<BrokerOptions, "verifier" | "appRoles">,
): Promise<Broker> {
  const broker = new Broker({ logger: silentLogger, port: 0, host: "127.0.0.1", ...overrides });
  await broker.start();
  return broker;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs a command to completion; resolves with its exit code and output. */
export function run(
  command: string,
  args: string[],
  timeoutMs = 10_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts a long-running process and waits until its output matches `ready` (kept as `child.ready`). */
export function startProcess(
  command: string,
  args: string[],
  ready: RegExp,
  timeoutMs = 10_000,
  env: NodeJS.ProcessEnv = {},
): Promise<ChildProcess & { ready: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    let seen = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command} did not become ready: ${seen}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      seen += d;
      const match = ready.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(Object.assign(child, { ready: match }));
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}: ${seen}`));
    });
  });
}

/** Stops a child process this test started and waits for it to go. */
export function stopProcess(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `check` is true or the time runs out. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(20);
  }
}

/** A raw MQTT 3.1.1 CONNECT packet, for tests that must send what mqtt.js refuses to. */
export function connectPacket(o: {
  clientId: string;
  clean: boolean;
  username?: string;
  password?: string;
}): Buffer {
  const str = (s: string) => {
    const b = Buffer.from(s, "utf8");
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  };
  const flags =
    (o.clean ? 0x02 : 0) | (o.username !== undefined ? 0x80 : 0) | (o.password !== undefined ? 0x40 : 0);
  const body = Buffer.concat([
    str("MQTT"),
    Buffer.from([4, flags, 0, 60]),
    str(o.clientId),
    ...(o.username !== undefined ? [str(o.username)] : []),
    ...(o.password !== undefined ? [str(o.password)] : []),
  ]);
  const length: number[] = [];
  let n = body.length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    length.push(byte);
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x10, ...length]), body]);
}
