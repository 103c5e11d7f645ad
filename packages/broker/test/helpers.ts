import { type ChildProcess, spawn } from "node:child_process";
import { startBroker as startTestBroker } from "@amp/test-support";
import { Broker, type BrokerOptions } from "../src/index.js";

/** The embedded broker on loopback and an ephemeral port, quiet (the shared fixture, bound to this package's class). */
export function startBroker(
  overrides: Partial<BrokerOptions> & Pick<BrokerOptions, "verifier" | "appRoles">,
): Promise<Broker> {
  return startTestBroker(Broker, overrides);
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
