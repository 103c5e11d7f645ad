import { spawn } from "node:child_process";
import { freePort } from "./loopback.js";
import { tempDir } from "./temp-dir.js";

/** A `redis-server` this test started: on loopback, a free port and a temp dir, nothing persisted. */
export interface TestRedis {
  /** `redis://127.0.0.1:<port>` (with `:<password>@` when one was asked for). */
  readonly url: string;
  readonly port: number;
  /** Kills the server (SIGKILL unless told) and removes its folder. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts Debian's `redis-server` (`.ci/run` installs it) and waits for "Ready to accept
 * connections". `password` sets `requirepass`, for tests of a Redis that refuses a client.
 */
export async function startRedis(
  options: { password?: string; timeoutMs?: number } = {},
): Promise<TestRedis> {
  const port = await freePort();
  const dir = tempDir("amp-redis-");
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir.path,
    "--save",
    "",
    "--appendonly",
    "no",
  ];
  if (options.password) args.push("--requirepass", options.password);
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redis-server did not become ready: ${seen}`));
    }, options.timeoutMs ?? 15_000);
    const onData = (d: Buffer) => {
      seen += d;
      if (/Ready to accept connections/.test(seen)) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
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
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : "";
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    async stop(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once("exit", () => resolve());
          child.kill(signal);
        });
      }
      dir.remove();
    },
  };
}
