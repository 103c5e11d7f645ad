import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBin, ServerProcess } from "./server-process.js";

/** N real `amp` processes started from copies of one folder, and tokens they all accept. */
export interface AmpNodes {
  readonly nodes: ServerProcess[];
  /** `amp token` tokens by user (root among them), signed with the nodes' shared keys. */
  readonly tokens: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

export interface AmpNodesOptions {
  count: number;
  /** Every node's environment (RMX_BASE_URL, RMX_DATABASE_URL, …). */
  env: Record<string, string>;
  /** Each node's own flags (`--redis-url`, `--node-id`, `--groovebox`); `name` is a, b, c, … */
  args(name: string): string[];
  /** Users to make tokens for besides root (RMX_ROOT_USER). */
  users?: readonly string[];
}

/**
 * A first start names the issuer and makes the signing keys (and, with RMX_DATABASE_URL, stores
 * them there), then stops cleanly; each node gets a copy of that folder (the same keyring), as an
 * operator would copy it. Without RMX_DATABASE_URL the copies also share the LMDB signing keys.
 */
export async function startAmpNodes(options: AmpNodesOptions): Promise<AmpNodes> {
  const seed = mkdtempSync(join(tmpdir(), "amp-nodes-seed-"));
  const folders = [seed];
  const nodes: ServerProcess[] = [];
  const close = async () => {
    for (const node of nodes) await node.dispose();
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const first = await new ServerProcess([], options.env, seed).ready(60_000);
    first.signal("SIGTERM");
    await first.exited;
    const tokens: Record<string, string> = {};
    for (const user of [options.env.RMX_ROOT_USER ?? "root", ...(options.users ?? [])]) {
      const made = await runBin(["token", "--user", user, "--database-dir", seed], options.env);
      if (made.code !== 0) throw new Error(`amp token --user ${user}: ${made.stderr}`);
      tokens[user] = made.stdout.trim().split("\n").at(-1)!;
    }
    const names = Array.from({ length: options.count }, (_, i) => String.fromCharCode(97 + i));
    const started = names.map((name) => {
      const dir = mkdtempSync(join(tmpdir(), `amp-node-${name}-`));
      folders.push(dir);
      cpSync(seed, dir, { recursive: true });
      const node = new ServerProcess(options.args(name), options.env, dir);
      nodes.push(node);
      return node.ready(60_000);
    });
    await Promise.all(started);
    return { nodes, tokens, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Imports a `.remix` file through `node` (`POST /x/apps/import`); throws unless it is accepted. */
export async function importRemix(node: ServerProcess, token: string, file: string): Promise<void> {
  const imported = await fetch(node.url("/x/apps/import"), {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/zip" },
    body: readFileSync(file),
  });
  if (imported.status >= 300)
    throw new Error(`import of ${file}: ${imported.status} ${await imported.text()}`);
}
