import { randomBytes } from "node:crypto";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { PostgresDatabase, PostgresRecords } from "@amp/records/postgres";
import { silentLogger, startPostgres, type TestPostgres } from "@amp/test-support";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Envelope, KEYRING_FILE, KeyProviderError, Secrets } from "../src/index.js";
import { tempDir } from "./helpers.js";

/**
 * Secrets on a store that several nodes share (PostgreSQL through `@amp/records`): each "node"
 * is its own Secrets with its own data folder (keyring file) and database connection.
 */
let server: TestPostgres;
let databaseCount = 0;
const cleanups: Array<() => void | Promise<void>> = [];

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
afterAll(() => server?.stop());

async function sharedDatabase(): Promise<string> {
  return server.createDatabase(`secrets_${process.pid}_${++databaseCount}`);
}

/** A node: its own folder (keyring) and connection, on the shared database at `url`. */
async function node(url: string, options: { masterKey?: string; keyringFrom?: string } = {}) {
  const dir = tempDir();
  if (options.keyringFrom) copyFileSync(join(options.keyringFrom, KEYRING_FILE), join(dir.dir, KEYRING_FILE));
  const database = await PostgresDatabase.connect({ url, logger: silentLogger });
  const records = await PostgresRecords.open(database, silentLogger);
  const secrets = new Secrets({
    databaseDir: dir.dir,
    store: records.open<Envelope>("secrets"),
    ...(options.masterKey ? { masterKey: options.masterKey } : {}),
  });
  cleanups.push(() => dir.cleanup());
  cleanups.push(() => database.close());
  cleanups.push(() => records.close());
  cleanups.push(() => secrets.close());
  return { secrets, dir: dir.dir };
}

describe("Secrets on a shared PostgreSQL store", () => {
  it("a secret set on one node is listed and revealed on another with the same keyring", async () => {
    const url = await sharedDatabase();
    const masterKey = randomBytes(32).toString("base64");
    const a = await node(url, { masterKey });
    await a.secrets.checkKeys();
    const b = await node(url, { masterKey, keyringFrom: a.dir });
    await b.secrets.checkKeys();
    await a.secrets.set("shop", "STRIPE_KEY", "sk_live_123");
    expect((await b.secrets.list("shop")).map((s) => s.name)).toEqual(["STRIPE_KEY"]);
    expect(await b.secrets.revealString("shop", "STRIPE_KEY")).toBe("sk_live_123");
    expect(await b.secrets.delete("shop", "STRIPE_KEY")).toBe(true);
    expect(await a.secrets.has("shop", "STRIPE_KEY")).toBe(false);
  });

  it("refuses at start a node whose keyring does not open the shared secrets", async () => {
    const url = await sharedDatabase();
    const a = await node(url);
    await a.secrets.checkKeys();
    const stranger = await node(url); // a keyring of its own
    const refused = await stranger.secrets.checkKeys().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(KeyProviderError);
    expect(String((refused as Error).message)).toMatch(/same keyring/);
  });

  it("setIf is a compare-and-set across nodes: of concurrent writers from one value, one wins", async () => {
    const url = await sharedDatabase();
    const a = await node(url);
    const b = await node(url, { keyringFrom: a.dir });
    const [sa, sb] = [a.secrets.scoped("$amp.auth"), b.secrets.scoped("$amp.auth")];
    expect(await sa.setIf("signing-keys", undefined, "v1")).toBe(true);
    expect(await sb.setIf("signing-keys", undefined, "other")).toBe(false);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? sa : sb).setIf("signing-keys", "v1", `v2-${i}`)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await sa.get("signing-keys")).toBe(`v2-${results.indexOf(true)}`);
  });
});
