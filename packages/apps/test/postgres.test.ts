import { mixEqual, TaggedString } from "@amp/codec";
import { silentLogger, startPostgres, type TestPostgres } from "@amp/test-support";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Apps,
  type ChangeEvent,
  DatabaseStartupError,
  DatabaseUnavailableError,
  parse,
  SCHEMA_VERSION,
} from "../src/index.js";
import { plan } from "../src/query/index.js";
import { rangeCondition } from "../src/store/postgres/index-keys.js";
import { root } from "./helpers.js";
import { serveApps } from "./http-helpers.js";

/** What only the PostgreSQL engine has: several nodes on one database, migrations, outages. */
describe("PostgreSQL engine (real PostgreSQL)", () => {
  let server: TestPostgres;
  let n = 0;
  const open: Apps[] = [];
  const node = async (url: string) => {
    const apps = await Apps.open({ databaseUrl: url, logger: silentLogger });
    open.push(apps);
    return apps;
  };
  const freshDatabase = () => server.createDatabase(`t${n++}`);
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const apps of open) await apps.close().catch(() => {});
    await server?.stop();
  });

  it("two nodes on one database: the registry, writes, change feeds and ETags cross over", async () => {
    const url = await freshDatabase();
    const [a, b] = await Promise.all([node(url), node(url)]); // both migrate at once: one does
    await a.create(root, "shared", { indexedFields: ["n"] });
    await until(() => b.list(root).some((info) => info.name === "shared"));
    const onB = await b.store(root, "shared", ["allowed_read"]);
    const seen: ChangeEvent[] = [];
    onB.subscribe((e) => seen.push(e));
    const onA = await a.store(root, "shared", ["allowed_build"]);
    await onA.write([{ op: "insert", doc: { _rmx_id: "d1", _rmx_type: "t", n: 1n } }], "root");
    await until(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ app: "shared", seq: 1, changes: [{ op: "put", id: "d1" }] });
    expect(await onB.get("d1")).toMatchObject({ n: 1n });
    expect(await onB.currentSeq()).toBe(await onA.currentSeq());
    expect(onB.instance).toBe(onA.instance);
    // Indexed fields set on A are used by B's planner.
    await a.setIndexedFields(root, "shared", ["m"]);
    await onA.write([{ op: "insert", doc: { _rmx_id: "d2", _rmx_type: "t", m: "x" } }], "root");
    await until(async () => (await b.query(root, "shared", 'm == "x"')).plan === "index:m");
    expect((await b.query(root, "shared", 'm == "x"')).documents.map((d) => d._rmx_id)).toEqual(["d2"]);
    await a.delete(root, "shared");
    await until(() => !b.list(root).some((info) => info.name === "shared"));
  });

  it("replays what a node missed while its LISTEN connection was down: feeds and the registry catch up", async () => {
    const url = await freshDatabase();
    const [a, b] = await Promise.all([node(url), node(url)]);
    await a.create(root, "feed");
    await until(() => b.list(root).some((info) => info.name === "feed"));
    const seen: number[] = [];
    (await b.store(root, "feed", ["allowed_read"])).subscribe((e) => seen.push(e.seq));
    const onA = await a.store(root, "feed", ["allowed_build"]);
    const admin = new pg.Client(url);
    await admin.connect();
    try {
      // Every LISTEN connection is cut; the writes below are committed while they reconnect.
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'");
      for (let i = 0; i < 3; i++) await onA.write([{ op: "insert", doc: { _rmx_type: "t", i } }], "root");
      await a.create(root, "later");
    } finally {
      await admin.end();
    }
    await until(() => seen.length === 3);
    expect(seen).toEqual([1, 2, 3]);
    await until(() => b.list(root).some((info) => info.name === "later"));
  });

  it("a point read the server refuses fails alone: the reads pipelined around it answer", async () => {
    const apps = await node(await freshDatabase());
    await apps.create(root, "p");
    const store = await apps.store(root, "p", ["allowed_build"]);
    await store.write([{ op: "insert", doc: { _rmx_id: "a", _rmx_type: "t" } }], "u");
    // PostgreSQL text cannot hold NUL: the server answers an error for that read only.
    const [before, bad, after] = await Promise.allSettled([
      store.get("a"),
      store.get("a\0b"),
      store.get("a"),
    ]);
    expect(before).toMatchObject({ status: "fulfilled", value: { _rmx_id: "a" } });
    expect(bad).toMatchObject({ status: "rejected", reason: { code: "22021" } });
    expect(after).toMatchObject({ status: "fulfilled", value: { _rmx_id: "a" } });
    expect(await store.get("a")).toMatchObject({ _rmx_id: "a" });
  });

  it("a scan decoded and filtered on the query worker answers as one decoded inline", async () => {
    const url = await freshDatabase();
    const worker = await Apps.open({ databaseUrl: url, logger: silentLogger, query: { inlineBudget: 0 } });
    open.push(worker);
    const inline = await Apps.open({
      databaseUrl: url,
      logger: silentLogger,
      query: { inlineBudget: Number.POSITIVE_INFINITY },
    });
    open.push(inline);
    await worker.create(root, "scan");
    await until(() => inline.list(root).some((info) => info.name === "scan"));
    const store = await worker.store(root, "scan", ["allowed_build"]);
    // Three pages of rows, every kind of value the filter and sort must see alike.
    const values = [1n << 60n, -0, 2.5, "é", new Uint8Array([1, 2]), new TaggedString("t", "x"), null, true];
    await store.write(
      Array.from({ length: 2500 }, (_, i) => ({
        op: "insert" as const,
        doc: { _rmx_id: `d${i}`, _rmx_type: "t", k: i % 7, v: values[i % values.length]!, s: `s${i % 13}` },
      })),
      "u",
    );
    for (const text of [
      "k == 3 | sort v, -s | limit 50",
      's startsWith "s1" && k != 2',
      "k > 100",
      "k >= 0 | limit 7",
    ]) {
      const a = await worker.query(root, "scan", text);
      const b = await inline.query(root, "scan", text);
      expect(a.plan).toBe("scan");
      expect(a.documents.map((d) => d._rmx_id)).toEqual(b.documents.map((d) => d._rmx_id));
      expect(a.documents.every((d, i) => mixEqual(d, b.documents[i]!))).toBe(true);
      expect(a.next).toBe(b.next);
    }
  });

  it("answers an indexed query through the field's expression index", async () => {
    const url = await freshDatabase();
    const apps = await node(url);
    await apps.create(root, "ix", { indexedFields: ["n"] });
    const store = await apps.store(root, "ix", ["allowed_build"]);
    const query = parse("n >= 2 && n < 5");
    const chosen = plan(query, store.indexedFields);
    if (chosen.kind !== "index") throw new Error("expected an index plan");
    const cond = rangeCondition(chosen.field, chosen.ranges[0]!, 1);
    const client = new pg.Client(url);
    await client.connect();
    try {
      const [{ id }] = (await client.query("SELECT id FROM amp_stores WHERE name = 'ix'")).rows;
      await client.query("SET enable_seqscan = off");
      const explain = await client.query(
        `EXPLAIN SELECT id, doc FROM amp_docs WHERE store = ${id} AND ${cond.sql}`,
        cond.values,
      );
      expect(explain.rows.map((r) => r["QUERY PLAN"]).join("\n")).toMatch(/Index (Only )?Scan using amp_ix_/);
    } finally {
      await client.end();
    }
  });

  it("migrates once when several nodes start together (advisory lock)", async () => {
    const url = await freshDatabase();
    const nodes = await Promise.all([1, 2, 3, 4].map(() => node(url)));
    const client = new pg.Client(url);
    await client.connect();
    try {
      expect(
        (await client.query("SELECT version FROM amp_migrations WHERE component = 'apps'")).rows,
      ).toEqual([{ version: SCHEMA_VERSION }]);
      const system = await client.query("SELECT name FROM amp_stores ORDER BY name");
      expect(system.rows.map((r) => r.name)).toEqual(["_rmx_admin", "_rmx_meta"]);
    } finally {
      await client.end();
    }
    await nodes[0]!.create(root, "one");
    await until(() => nodes.every((apps) => apps.list(root).length === 1));
  });

  it("refuses a wrong URL, an unreachable server, a missing database and a newer schema, each typed", async () => {
    const fails = async (url: string) =>
      Apps.open({ databaseUrl: url, logger: silentLogger }).then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(await fails("mysql://127.0.0.1/x")).toMatchObject({ code: "bad_database_url" });
    expect(await fails("not a url")).toMatchObject({ code: "bad_database_url" });
    expect(await fails(`postgres://postgres@127.0.0.1:1/x`)).toMatchObject({ code: "database_unreachable" });
    expect(await fails(server.urlOf("no_such_db"))).toMatchObject({ code: "database_refused" });
    const url = await freshDatabase();
    await (await node(url)).close();
    const client = new pg.Client(url);
    await client.connect();
    await client.query("UPDATE amp_migrations SET version = $1 WHERE component = 'apps'", [
      SCHEMA_VERSION + 1,
    ]);
    await client.end();
    const err = await fails(url);
    expect(err).toBeInstanceOf(DatabaseStartupError);
    expect(err).toMatchObject({ code: "schema_too_new" });
    expect((err as Error).message).toMatch(/newer than this amp knows/);
  });

  it("answers 503 database_unavailable while PostgreSQL is down, and serves again once it is back", async () => {
    const url = await freshDatabase();
    const apps = await node(url);
    await apps.create(root, "up");
    const http = serveApps(apps, {}, async () => {});
    const created = await http.request("root", "POST", "/up", [{ _rmx_type: "t", n: 1 }]);
    expect(created.status).toBe(201);
    const { documents } = (await created.json()) as { documents: { _rmx_id: string }[] };
    const one = `/up/documents/${documents[0]!._rmx_id}.json`;
    expect((await http.request("root", "GET", one)).status).toBe(200); // the point reads' connection is open
    await server.kill();
    try {
      const store = await apps.store(root, "up", ["allowed_read"]);
      await expect(store.count()).rejects.toBeInstanceOf(DatabaseUnavailableError);
      const down = await http.request("root", "GET", "/up/query.json?query=n%20%3D%3D%201");
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ error: { code: "database_unavailable" } });
      const write = await http.request("root", "POST", "/up", [{ _rmx_type: "t", n: 2 }]);
      expect(write.status).toBe(503);
      const read = await http.request("root", "GET", one);
      expect(read.status).toBe(503);
      expect(await read.json()).toMatchObject({ error: { code: "database_unavailable" } });
    } finally {
      await server.start();
    }
    await until(
      async () => (await http.request("root", "GET", "/up/query.json?query=n%20%3E%200")).status === 200,
    );
    expect((await http.request("root", "POST", "/up", [{ _rmx_type: "t", n: 3 }])).status).toBe(201);
    expect((await http.request("root", "GET", one)).status).toBe(200);
    const r = await http.request("root", "GET", "/up/query.json?query=n%20%3E%200");
    expect(((await r.json()) as unknown[]).length).toBe(2);
  }, 60_000);
});

/** Polls `condition` (another node's notification, a restarting server) for up to 10 s. */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      if (await condition()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}
