import { silentLogger } from "@amp/test-support";
import { afterAll, describe, expect, it } from "vitest";
import { type DatabaseStartupError, DatabaseUnavailableError } from "../src/index.js";
import { migrate, PostgresDatabase, PostgresRecords } from "../src/postgres/index.js";
import { postgresEngine } from "./engines.js";

const engine = postgresEngine();
afterAll(() => engine.stop());

describe("records on PostgreSQL, across nodes and outages", () => {
  it("a watcher on one node hears another node's writes", async () => {
    const { records, second, close } = await engine.fresh();
    try {
      const heard: (string | undefined)[] = [];
      (await second()).open<number>("revoked").watch((key) => heard.push(key));
      await new Promise((resolve) => setTimeout(resolve, 200)); // LISTEN is in place
      await records.open<number>("revoked").put("token-1", 1);
      const end = Date.now() + 5_000;
      while (!heard.includes("token-1") && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(heard).toContain("token-1");
    } finally {
      await close();
    }
  });

  it("answers DatabaseUnavailableError while PostgreSQL is down, works again after, and tells watchers to reload", async () => {
    const { records, close } = await engine.fresh();
    try {
      const store = records.open<number>("outage");
      const heard: (string | undefined)[] = [];
      store.watch((key) => heard.push(key));
      await new Promise((resolve) => setTimeout(resolve, 300)); // LISTEN is in place
      await store.put("before", 1);
      await engine.server().kill();
      await expect(store.get("before")).rejects.toBeInstanceOf(DatabaseUnavailableError);
      await expect(store.put("during", 2)).rejects.toBeInstanceOf(DatabaseUnavailableError);
      const beforeRestart = heard.length;
      await engine.server().start();
      let value: number | undefined;
      const end = Date.now() + 30_000;
      while (Date.now() < end) {
        value = await store.get("before").catch(() => undefined);
        if (value !== undefined) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(value).toBe(1);
      expect(await store.get("during")).toBeUndefined();
      // Told of the loss, and again once listening after the restart: a cache reloads then.
      expect(heard).toContain(undefined);
      while (!heard.slice(beforeRestart).includes(undefined) && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(heard.slice(beforeRestart)).toContain(undefined);
    } finally {
      await close();
    }
  }, 60_000);

  it("migrates once when nodes start together, and refuses a newer schema", async () => {
    await (await engine.fresh()).close(); // starts the server
    const server = engine.server();
    const url = await server.createDatabase("migrations_race");
    const databases = await Promise.all(
      Array.from({ length: 4 }, () => PostgresDatabase.connect({ url, logger: silentLogger })),
    );
    try {
      const steps = [{ version: 1, sql: "CREATE TABLE race_test (n integer)" }];
      // Four nodes at once: CREATE TABLE would fail on a second run, so success means once.
      expect(await Promise.all(databases.map((d) => migrate(d, "race", steps)))).toEqual([1, 1, 1, 1]);
      await databases[0]!.query("UPDATE amp_migrations SET version = 9 WHERE component = 'race'");
      await expect(migrate(databases[1]!, "race", steps)).rejects.toMatchObject({ code: "schema_too_new" });
    } finally {
      for (const d of databases) await d.close();
    }
  });

  it("listens to every channel of a node on one connection, channels added later included", async () => {
    await (await engine.fresh()).close(); // starts the server
    const url = await engine.server().createDatabase("one_listener");
    const database = await PostgresDatabase.connect({ url, logger: silentLogger });
    try {
      const records = await PostgresRecords.open(database, silentLogger);
      const keys: (string | undefined)[] = [];
      const other: (string | undefined)[] = [];
      records.open<number>("ns").watch((key) => keys.push(key));
      await database.notifications.ready();
      database.notifications.subscribe("amp_other", (payload) => other.push(payload));
      await database.notifications.ready();
      expect(other).toEqual([undefined]); // listening started: reload
      await records.open<number>("ns").put("k", 1);
      await database.query("SELECT pg_notify('amp_other', 'hello')");
      await database.query("SELECT pg_notify('amp_records', 'no-space')"); // malformed: dropped
      const end = Date.now() + 5_000;
      while (!other.includes("hello") && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(other).toContain("hello");
      expect(keys).toContain("k");
      expect(keys.filter((k) => k !== undefined && k !== "k")).toEqual([]);
      const listeners = await database.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
      );
      expect(Number(listeners[0]!.n)).toBe(1);
      expect(() => database.notifications.subscribe("bad; DROP TABLE x", () => {})).toThrow(/channel/);
      await records.close();
    } finally {
      await database.close();
    }
  });

  it("names what is wrong with a bad URL, an unreachable server or a refused login, without the password", async () => {
    const bad = (url: string) => PostgresDatabase.connect({ url, logger: silentLogger });
    await expect(bad("mysql://x@127.0.0.1/db")).rejects.toMatchObject({ code: "bad_database_url" });
    await expect(bad("not a url")).rejects.toMatchObject({ code: "bad_database_url" });
    const unreachable = await bad("postgres://u:hunter2@127.0.0.1:1/db").catch(
      (e: DatabaseStartupError) => e,
    );
    expect(unreachable).toMatchObject({ code: "database_unreachable" });
    expect(String(unreachable)).not.toContain("hunter2");
    const missing = await bad(engine.server().urlOf("no_such_database")).catch(
      (e: DatabaseStartupError) => e,
    );
    expect(missing).toMatchObject({ code: "database_refused" });
  });
});
