import { type ChildProcess, execFile, spawn } from "node:child_process";
import { accessSync, chownSync, constants, readdirSync, realpathSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./loopback.js";
import { tempDir } from "./temp-dir.js";

const run = promisify(execFile);

/** A PostgreSQL server this test started: on loopback, a free port and a temp dir, trust auth. */
export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  readonly port: number;
  /** The URL of another database on this server (see `createDatabase`). */
  urlOf(database: string): string;
  /** Creates an empty database and answers its URL. */
  createDatabase(name: string): Promise<string>;
  /** Kills the server (SIGKILL: as a crash would), keeping its data. */
  kill(): Promise<void>;
  /** Starts the killed server again on the same port and data. */
  start(): Promise<void>;
  /** Kills the server and removes its folder. */
  stop(): Promise<void>;
}

/** Where `initdb` and `postgres` are: on PATH, else Debian's `/usr/lib/postgresql/<version>/bin` (newest). */
function binDir(): string {
  const candidates = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  let debian: string[] = [];
  try {
    debian = readdirSync("/usr/lib/postgresql")
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => join("/usr/lib/postgresql", v, "bin"));
  } catch {
    // no Debian packages
  }
  for (const dir of [...candidates, ...debian]) {
    try {
      accessSync(join(dir, "initdb"), constants.X_OK);
      // PATH may hold symlinks to a few of them (/usr/local/bin here): the rest sit beside the target.
      return dirname(realpathSync(join(dir, "initdb")));
    } catch {
      // not here
    }
  }
  throw new Error(
    "PostgreSQL not found: install Debian's `postgresql` (initdb and postgres on PATH or in /usr/lib/postgresql/*/bin)",
  );
}

/** PostgreSQL refuses to run as root: as root, run its binaries as the `postgres` user. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
}

/**
 * Starts a real PostgreSQL (`initdb` + `postgres`) for a test: fsync off (a killed server keeps
 * every commit, a crashed machine would not), C locale, trust auth on 127.0.0.1 only. Throws
 * when PostgreSQL is missing (so CI fails rather than skips).
 */
export async function startPostgres(options: { timeoutMs?: number } = {}): Promise<TestPostgres> {
  const bin = binDir();
  const port = await freePort();
  const dir = tempDir("amp-pg-");
  const data = join(dir.path, "data");
  if (process.getuid?.() === 0) {
    const { stdout } = await run("id", ["-u", "postgres"]);
    const { stdout: gid } = await run("id", ["-g", "postgres"]);
    chownSync(dir.path, Number(stdout.trim()), Number(gid.trim()));
  }
  const [initdb, initArgs] = asServerUser(join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    "postgres",
    "-A",
    "trust",
    "-E",
    "UTF8",
    "--locale=C",
    "--no-sync",
  ]);
  await run(initdb, initArgs, { cwd: dir.path });

  let child: ChildProcess | undefined;
  const start = async () => {
    const [postgres, args] = asServerUser(join(bin, "postgres"), [
      "-D",
      data,
      "-p",
      String(port),
      "-k",
      dir.path,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
      "-c",
      "full_page_writes=off",
      "-c",
      "max_connections=200",
    ]);
    // Its own process group, so that a kill reaches postgres behind runuser.
    const proc = spawn(postgres, args, { cwd: dir.path, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    // A test process that dies without `stop()` takes its server along.
    const orphan = () => killGroup(proc);
    process.once("exit", orphan);
    proc.once("exit", () => process.off("exit", orphan));
    await new Promise<void>((resolve, reject) => {
      let seen = "";
      const timer = setTimeout(() => {
        killGroup(proc);
        reject(new Error(`postgres did not become ready: ${seen}`));
      }, options.timeoutMs ?? 30_000);
      const onData = (d: Buffer) => {
        seen += d;
        if (/ready to accept connections/.test(seen)) {
          clearTimeout(timer);
          proc.stderr?.off("data", onData);
          proc.stdout?.off("data", onData);
          resolve();
        }
      };
      proc.stdout?.on("data", onData);
      proc.stderr?.on("data", onData);
      proc.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      proc.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`postgres exited with ${code}: ${seen}`));
      });
    });
    proc.stdout?.resume();
    proc.stderr?.resume();
  };
  const kill = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once("exit", () => resolve());
      killGroup(proc);
    });
    // Until every process of the group is gone, the next start would find the postmaster "running".
    for (let i = 0; i < 250 && groupAlive(proc); i++) await new Promise((r) => setTimeout(r, 20));
  };
  await start();
  const urlOf = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    url: urlOf("postgres"),
    port,
    urlOf,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
      await run(join(bin, "createdb"), [
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-U",
        "postgres",
        "-T",
        "template0",
        name,
      ]);
      return urlOf(name);
    },
    kill,
    start,
    async stop() {
      await kill();
      dir.remove();
    },
  };
}

function killGroup(proc: ChildProcess): void {
  try {
    if (proc.pid !== undefined) process.kill(-proc.pid, "SIGKILL");
  } catch {
    proc.kill("SIGKILL");
  }
}

function groupAlive(proc: ChildProcess): boolean {
  try {
    if (proc.pid !== undefined) process.kill(-proc.pid, 0);
    return proc.pid !== undefined;
  } catch {
    return false;
  }
}
