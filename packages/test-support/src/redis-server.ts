import { type ChildProcess, spawn } from "node:child_process";
import { freePort } from "./loopback.js";
import { makeLoopbackCertificate } from "./loopback-certificate.js";
import { tempDir } from "./temp-dir.js";

/** A `redis-server` this test started: on loopback, a free port and a temp dir, nothing persisted. */
export interface TestRedis {
  /**
   * `redis://127.0.0.1:<port>`, or with `tls` `rediss://localhost:<port>` (a host name, so the
   * client checks the certificate's name and sends it as SNI); `:<password>@` when one was asked for.
   */
  readonly url: string;
  readonly port: number;
  /** With `tls`: the server's self-signed certificate (PEM), which a client must trust. */
  readonly caFile: string | undefined;
  /** Kills the server (SIGKILL: as a crash would), keeping its port for `start`. */
  kill(): Promise<void>;
  /** Starts the killed server again on the same port (empty: nothing is persisted). */
  start(): Promise<void>;
  /** Kills the server (SIGKILL unless told) and removes its folder. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts Debian's `redis-server` (`.ci/run` installs it) and waits for "Ready to accept
 * connections". `password` sets `requirepass`, for tests of a Redis that refuses a client.
 * `tls` serves TLS only (no plain port), with a certificate for localhost and 127.0.0.1 made in
 * its folder; clients are not asked for certificates.
 */
export async function startRedis(
  options: { password?: string; tls?: boolean; timeoutMs?: number } = {},
): Promise<TestRedis> {
  const port = await freePort();
  const dir = tempDir("amp-redis-");
  const certificate = options.tls ? await makeLoopbackCertificate(dir.path) : undefined;
  const listen = certificate
    ? [
        ...["--port", "0", "--tls-port", String(port)],
        ...["--tls-cert-file", certificate.certFile, "--tls-key-file", certificate.keyFile],
        ...["--tls-ca-cert-file", certificate.certFile, "--tls-auth-clients", "no"],
        // localhost may resolve to ::1 first; "-" skips an address this machine lacks.
        ...["--bind", "127.0.0.1", "-::1"],
      ]
    : ["--port", String(port), "--bind", "127.0.0.1"];
  const args = [...listen, "--dir", dir.path, "--save", "", "--appendonly", "no"];
  if (options.password) args.push("--requirepass", options.password);
  let child = await spawnRedis(args, options.timeoutMs ?? 15_000);
  const end = (signal: NodeJS.Signals) =>
    child.exitCode === null && child.signalCode === null
      ? new Promise<void>((resolve) => {
          child.once("exit", () => resolve());
          child.kill(signal);
        })
      : Promise.resolve();
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : "";
  return {
    url: certificate ? `rediss://${auth}localhost:${port}` : `redis://${auth}127.0.0.1:${port}`,
    port,
    caFile: certificate?.certFile,
    kill: () => end("SIGKILL"),
    async start() {
      child = await spawnRedis(args, options.timeoutMs ?? 15_000);
    },
    async stop(signal = "SIGKILL") {
      await end(signal);
      dir.remove();
    },
  };
}

/** Spawns redis-server and waits for "Ready to accept connections". */
async function spawnRedis(args: readonly string[], timeoutMs: number): Promise<ChildProcess> {
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not become ready: ${seen}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      seen += d;
      if (/Ready to accept connections/.test(seen)) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.removeAllListeners("exit");
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${seen}`));
    });
  });
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}
