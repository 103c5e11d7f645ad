import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../dist/bin.js", import.meta.url));

export interface LogLine {
  severity: string;
  message: string;
  [key: string]: unknown;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built bin to completion (for --help and bad configs). */
export function runBin(args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env), stdio: "pipe" });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
}

/** A real `amp` process on ephemeral ports with its own temporary database folder. */
export class ServerProcess {
  readonly logs: LogLine[] = [];
  stdout = "";
  stderr = "";
  http = 0;
  admin = 0;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  readonly dataDir: string;
  private readonly ownsDataDir: boolean;

  /** `dataDir`: reuse another process's database folder (a restart); it is then left in place. */
  constructor(args: string[] = [], env: Record<string, string> = {}, dataDir?: string) {
    this.ownsDataDir = dataDir === undefined;
    this.dataDir = dataDir ?? mkdtempSync(join(tmpdir(), "amp-server-"));
    this.child = spawn(
      process.execPath,
      [
        BIN,
        "--port",
        "0",
        "--admin-port",
        "0",
        "--broker-port",
        "0",
        "--database-dir",
        this.dataDir,
        ...args,
      ],
      { env: cleanEnv(env), stdio: "pipe" },
    );
    let pending = "";
    this.child.stdout!.on("data", (chunk: Buffer) => {
      this.stdout += chunk;
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) if (line.startsWith("{")) this.logs.push(JSON.parse(line) as LogLine);
    });
    this.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk));
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Waits for the "ready" log line and reads the bound ports from the "listening" line. */
  async ready(timeoutMs = 15_000): Promise<this> {
    await this.waitForLog("ready", timeoutMs);
    const listening = this.logs.find((l) => l.message === "listening") as LogLine & {
      http: { port: number };
      admin: { port: number };
    };
    this.http = listening.http.port;
    this.admin = listening.admin.port;
    return this;
  }

  async waitForLog(message: string, timeoutMs = 15_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.logs.find((l) => l.message === message);
      if (line) return line;
      if (this.child.exitCode !== null) throw new Error(`amp exited before "${message}": ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no "${message}" log line within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.http}${path}`;
  }

  adminUrl(path: string): string {
    return `http://127.0.0.1:${this.admin}${path}`;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async dispose(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGKILL");
      await this.exited;
    }
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The parent's environment without RMX_* settings, plus the test's own. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("RMX_")));
  return { ...base, ...env };
}
