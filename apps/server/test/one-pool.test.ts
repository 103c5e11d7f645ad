import { PostgresDatabase } from "@amp/records/postgres";
import { silentLogger, startPostgres, type TestPostgres } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ComposedAmp, startComposed } from "./helpers/composed.js";

/**
 * With --database-url a node opens one pool and one LISTEN connection, shared by the apps
 * engine and the records (secrets, signing keys, revocations, login configs), plus the apps
 * engine's point-read connection: not a pool and a LISTEN connection each.
 */
let postgres: TestPostgres;
let url: string;
let node: ComposedAmp;

beforeAll(async () => {
  postgres = await startPostgres();
  url = await postgres.createDatabase("one_pool");
  node = await startComposed({ databaseUrl: url });
}, 120_000);

afterAll(async () => {
  await node?.close();
  await postgres?.stop();
});

/** The node's connections to its database, by what they last ran. */
async function connections(): Promise<string[]> {
  const observer = await PostgresDatabase.connect({ url, logger: silentLogger, poolSize: 1 });
  try {
    const rows = await observer.query<{ query: string }>(
      "SELECT query FROM pg_stat_activity WHERE datname = 'one_pool' AND pid <> pg_backend_pid()",
    );
    return rows.map((r) => r.query);
  } finally {
    await observer.close();
  }
}

describe("one PostgreSQL pool per node", () => {
  it("listens on one connection for the apps' and the records' channels, and keeps within one pool", async () => {
    const token = await node.token("root");
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    expect(
      (await fetch(node.url("/x/apps"), { method: "POST", headers, body: '{"name":"pooled"}' })).status,
    ).toBe(201);
    const written = await fetch(node.url("/pooled"), { method: "POST", headers, body: '{"_rmx_type":"t"}' });
    expect(written.status).toBe(201);
    const { documents } = (await written.json()) as { documents: { _rmx_id: string }[] };
    const read = await fetch(node.url(`/pooled/documents/${documents[0]!._rmx_id}.json`), { headers });
    expect(read.status).toBe(200);
    const queries = await connections();
    const listening = queries.filter((q) => q.startsWith("LISTEN"));
    // Both components listen (the apps engine from its start, the records for revocations and
    // login configs): on one connection.
    expect(listening).toHaveLength(1);
    // The pool (10 at most), the LISTEN connection and the point reads' connection.
    expect(queries.length).toBeLessThanOrEqual(12);
  });
});
