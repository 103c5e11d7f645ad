import { PostgresDatabase, PostgresRecords } from "@amp/records/postgres";
import { type Envelope, Secrets } from "@amp/secrets";
import { silentLogger, startPostgres, type TestPostgres } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_VAULT_APP, TokenService } from "../src/index.js";
import { tempDir } from "./helpers.js";

/**
 * Nodes whose signing keys live in one shared vault (secrets on PostgreSQL): started at the same
 * moment on an empty database, they must agree on one key set, or a token one node signs would
 * not verify on another.
 */
let server: TestPostgres;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await server?.stop();
});

async function node(url: string, keyringDir: string) {
  const database = await PostgresDatabase.connect({ url, logger: silentLogger });
  const records = await PostgresRecords.open(database, silentLogger);
  const secrets = new Secrets({ databaseDir: keyringDir, store: records.open<Envelope>("secrets") });
  const tokens = await TokenService.open({
    databaseDir: tempDir(),
    vault: secrets.scoped(AUTH_VAULT_APP),
    records,
    issuer: "http://amp.test",
    logger: silentLogger,
  });
  closers.push(async () => {
    await tokens.close();
    await secrets.close();
    await records.close();
    await database.close();
  });
  return tokens;
}

describe("signing keys in a shared vault", () => {
  it("four nodes starting at once agree on one key; a token from any node verifies on every other", async () => {
    const url = await server.createDatabase("shared_vault");
    const keyring = tempDir(); // one keyring for all: the operator copies it to every node
    const nodes = await Promise.all(Array.from({ length: 4 }, () => node(url, keyring)));
    const kids = nodes.map((n) =>
      n
        .jwks()
        .keys.map((k) => (k as { kid: string }).kid)
        .join(","),
    );
    expect(new Set(kids).size).toBe(1);
    for (const [i, signer] of nodes.entries()) {
      const token = await signer.issue(`user-${i}`);
      for (const verifier of nodes) expect((await verifier.verify(token)).id).toBe(`user-${i}`);
    }
  });

  it("a token revoked on one node is refused by the others, and a refresh token is redeemed once in all", async () => {
    const url = await server.createDatabase("shared_revocations");
    const keyring = tempDir();
    const [a, b] = await Promise.all([node(url, keyring), node(url, keyring)]);
    const token = await a.issue("dana");
    expect((await b.verify(token)).id).toBe("dana");
    expect(await a.revoke(token)).toBe(true);
    await expect
      .poll(
        () =>
          b.verify(token).then(
            () => "accepted",
            (e: Error) => e.message,
          ),
        { timeout: 2_000 },
      )
      .toMatch(/revoked/);

    const session = await a.issueSession({ user: "erin", plugin: "test", claims: {} });
    const redeemed = await Promise.allSettled([
      a.refresh(session.refresh_token!),
      b.refresh(session.refresh_token!),
    ]);
    expect(redeemed.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });
});
