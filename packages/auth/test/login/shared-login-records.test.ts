import { LmdbRecords } from "@amp/records";
import { PostgresDatabase, PostgresRecords } from "@amp/records/postgres";
import { silentLogger, startPostgres, type TestPostgres, tempDir } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type PasskeyCredential, PasskeyCredentialStore, PluginConfigStore } from "../../src/index.js";

const secrets = () => {
  const values = new Map<string, string>();
  return {
    get: async (name: string) => values.get(name),
    set: async (name: string, value: string) => void values.set(name, value),
    delete: async (name: string) => void values.delete(name),
  };
};

const credential = (id: string, user: string): PasskeyCredential => ({
  id,
  user,
  publicKey: new Uint8Array([1, 2, 3]),
  counter: 0,
  transports: ["internal"],
  deviceType: "singleDevice",
  backedUp: false,
  createdAt: "2026-12-05T00:00:00.000Z",
});

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("login records on LMDB", () => {
  it("adopts passkeys an earlier version stored in its two tables", async () => {
    const dir = tempDir();
    const records = new LmdbRecords(dir.path);
    try {
      await records
        .open<PasskeyCredential>("auth-passkey-credentials")
        .put("cred-1", credential("cred-1", "dana"));
      await records.open("auth-passkey-users").put("dana", { handle: "h", credentialIds: ["cred-1"] });
      const store = new PasskeyCredentialStore({ records });
      expect((await store.credentialsOf("dana")).map((c) => c.id)).toEqual(["cred-1"]);
      expect(await store.userHandle("dana")).toBe("h");
      expect(await records.open("auth-passkey-credentials").range()).toEqual([]);
    } finally {
      await records.close();
      dir.remove();
    }
  });
});

describe("login records shared by two nodes on PostgreSQL", () => {
  let server: TestPostgres;
  const nodes: { records: PostgresRecords; database: PostgresDatabase }[] = [];
  beforeAll(async () => {
    server = await startPostgres();
    const url = await server.createDatabase("login_records");
    for (let i = 0; i < 2; i++) {
      const database = await PostgresDatabase.connect({ url, logger: silentLogger });
      nodes.push({ database, records: await PostgresRecords.open(database, silentLogger) });
    }
  }, 60_000);
  afterAll(async () => {
    for (const { records, database } of nodes) {
      await records.close();
      await database.close();
    }
    await server?.stop();
  });

  it("a plugin configured on A is active on B at once, and inactive on B once A deletes it", async () => {
    const [a, b] = nodes.map(({ records }) => new PluginConfigStore({ records, secrets: secrets() }));
    await Promise.all([a!.ready, b!.ready]);
    await a!.create(
      "corp",
      { kind: "oidc", visibility: "public", clientId: "c", issuer: "https://idp.example", returnUrls: [] },
      "root",
    );
    await eventually(() => b!.isActive("corp"));
    expect(b!.get("corp")).toMatchObject({ id: "corp", owner: "root" });
    await a!.delete("corp");
    await eventually(() => !b!.isActive("corp"));
    a!.close();
    b!.close();
  });

  it("a passkey registered through A is found through B; of two registrations of one new user, one wins", async () => {
    const [a, b] = nodes.map(({ records }) => new PasskeyCredentialStore({ records }));
    expect(await a!.add(credential("cred-9", "erin"), "handle", true)).toBe(true);
    expect((await b!.get("cred-9"))?.user).toBe("erin");
    const raced = await Promise.all([
      a!.add(credential("cred-a", "finn"), "h1", true),
      b!.add(credential("cred-b", "finn"), "h2", true),
    ]);
    expect(raced.filter(Boolean)).toHaveLength(1);
    expect(await a!.credentialsOf("finn")).toHaveLength(1);
  });
});
