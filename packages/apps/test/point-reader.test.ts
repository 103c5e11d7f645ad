import { Writable } from "node:stream";
import { isUnavailable } from "@amp/records/postgres";
import { silentLogger, startPostgres, type TestPostgres } from "@amp/test-support";
import pg from "pg";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrate } from "../src/store/postgres/migrations.js";
import { PointReader, pgSocket } from "../src/store/postgres/point-reader.js";

/** The pipelined reader over pg's socket, and the fallback through pg's prepared query. */
describe("PointReader (real PostgreSQL)", () => {
  let server: TestPostgres;
  let url: string;
  const large = Buffer.alloc(1 << 20, 0xab); // many socket chunks
  const docs = new Map<string, Buffer>([
    ["small", Buffer.from([1, 2, 3])],
    ["empty", Buffer.alloc(0)],
    ["large", large],
    ["ünïcode/id", Buffer.from("x")],
  ]);
  const readers: PointReader[] = [];
  const reader = (pipelined: boolean, logger = silentLogger) => {
    const r = new PointReader(url, { logger, pipelined });
    readers.push(r);
    return r;
  };

  beforeAll(async () => {
    server = await startPostgres();
    url = server.url;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await migrate(client);
    for (const [id, doc] of docs)
      await client.query("INSERT INTO amp_docs (store, id, doc, keys) VALUES (7, $1, $2, '{}')", [id, doc]);
    await client.end();
  }, 60_000);
  afterAll(async () => {
    for (const r of readers) await r.close();
    await server?.stop();
  });

  it("pgSocket finds pg's socket on a connected client (fails when a pg upgrade moves it), nothing elsewhere", async () => {
    const client = new pg.Client({ connectionString: url });
    expect(pgSocket(client)).toBeUndefined(); // not connected: pg reads nothing from it yet
    await client.connect();
    try {
      expect(pgSocket(client)).toBeDefined();
    } finally {
      await client.end();
    }
    expect(pgSocket({})).toBeUndefined();
    expect(pgSocket({ connection: { stream: { write() {}, on() {} } } })).toBeUndefined();
  });

  it("the fallback answers exactly as the pipelined reader: documents, missing ones, a refused read alone", async () => {
    const read = async (r: PointReader) =>
      Promise.allSettled([
        ...[...docs.keys()].map((id) => r.get(7, id)),
        r.get(7, "missing"),
        r.get(8, "small"),
        r.get(7, "a\0b"), // PostgreSQL text cannot hold NUL: the server refuses this read only
        r.get(7, "small"),
      ]);
    const pipelined = await read(reader(true));
    const fallback = await read(reader(false));
    expect(pipelined.map((x) => x.status)).toEqual(
      [...docs.keys()].map(() => "fulfilled").concat(["fulfilled", "fulfilled", "rejected", "fulfilled"]),
    );
    const plain = (results: PromiseSettledResult<Buffer | undefined>[]) =>
      results.map((x) =>
        x.status === "fulfilled"
          ? x.value?.toString("base64")
          : { code: (x.reason as { code: string }).code },
      );
    expect(plain(fallback)).toEqual(plain(pipelined));
    expect(plain(fallback)[2]).toBe(large.toString("base64"));
    expect(plain(fallback).slice(-4)).toEqual([undefined, undefined, { code: "22021" }, "AQID"]);
  });

  it("the fallback is logged once per reader, across reconnects; the pipelined reader logs nothing", async () => {
    const lines: string[] = [];
    const logger = pino(
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    );
    const pipelined = reader(true, logger);
    await pipelined.get(7, "small");
    expect(lines).toEqual([]);
    const fallback = reader(false, logger);
    await fallback.get(7, "small");
    await fallback.get(7, "small");
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(
      "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'",
    );
    await admin.end();
    expect(await fallback.get(7, "small")).toEqual(docs.get("small")); // reconnected
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 40,
      msg: expect.stringContaining("pg's prepared query"),
    });
  });

  for (const pipelined of [true, false]) {
    it(`${pipelined ? "pipelined" : "fallback"}: reads fail as unavailable while the server is down, answer after`, async () => {
      const r = reader(pipelined);
      expect(await r.get(7, "small")).toEqual(docs.get("small"));
      await server.kill();
      try {
        const down = await Promise.allSettled([r.get(7, "small"), r.get(7, "small")]);
        for (const x of down) {
          expect(x.status).toBe("rejected");
          expect(isUnavailable((x as PromiseRejectedResult).reason)).toBe(true);
        }
      } finally {
        await server.start();
      }
      expect(await r.get(7, "small")).toEqual(docs.get("small"));
    }, 60_000);
  }
});
