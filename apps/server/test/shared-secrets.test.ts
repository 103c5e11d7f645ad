import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KEYRING_FILE } from "@amp/secrets";
import { startPostgres, type TestPostgres } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ComposedAmp, startComposed } from "./helpers/composed.js";
import { runBin } from "./helpers/server-process.js";

/**
 * Two nodes on one --database-url: the secrets — the signing keys among them — are shared, so a
 * token either node signs (or `amp token` makes) is accepted by both, without sticky sessions.
 * Each node keeps its own folder; the keyring file is copied from the first, as an operator would.
 */
let postgres: TestPostgres;
let url: string;
let a: ComposedAmp;
let b: ComposedAmp;
/** Node B's folder (its copy of A's keyring). */
let dirB: string;
const folders: string[] = [];

beforeAll(async () => {
  postgres = await startPostgres();
  url = await postgres.createDatabase("shared_secrets");
  a = await startComposed({ databaseUrl: url });
  dirB = mkdtempSync(join(tmpdir(), "amp-node-b-"));
  folders.push(dirB);
  copyFileSync(join(a.dataDir, KEYRING_FILE), join(dirB, KEYRING_FILE));
  b = await startComposed({ databaseUrl: url, databaseDir: dirB });
}, 120_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  await postgres?.stop();
});

describe("secrets and signing keys on a shared PostgreSQL", () => {
  it("publishes one key set, and `amp token` beside either node makes tokens both accept", async () => {
    const jwks = async (node: ComposedAmp) =>
      (await (await fetch(node.url("/x/jwks.json"))).json()) as object;
    expect(await jwks(b)).toEqual(await jwks(a));
    // `amp token` beside each node's folder, with the shared database: signed with the shared keys.
    for (const folder of [a.dataDir, dirB]) {
      const made = await runBin(["token", "--user", "root", "--database-dir", folder], {
        RMX_DATABASE_URL: url,
      });
      expect(made.code).toBe(0);
      const token = made.stdout.trim().split("\n").pop()!;
      for (const node of [a, b]) {
        const profile = await fetch(node.url("/x/profile"), {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(profile.status).toBe(200);
      }
    }
  });

  it("refuses to start a node whose keyring does not open the shared secrets, naming the fix", async () => {
    const stranger = await startComposed({ databaseUrl: url }).catch((error: unknown) => error);
    if (!(stranger instanceof Error)) await (stranger as ComposedAmp).close();
    expect(stranger).toBeInstanceOf(Error);
    expect(String((stranger as Error).message)).toMatch(/same keyring/);
  });
});
