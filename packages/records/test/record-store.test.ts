import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { MAX_RECORD_BYTES, RecordValueError } from "../src/index.js";
import { type Engine, lmdbEngine, postgresEngine } from "./engines.js";

const engines: Engine[] = [lmdbEngine(), postgresEngine()];
afterAll(async () => {
  for (const engine of engines) await engine.stop();
});

/** Waits until `check` holds (watch notifications arrive asynchronously). */
async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(engines)("records on $name", (engine) => {
  it("stores, reads and deletes values exactly (bytes, numbers, nested objects)", async () => {
    const { records, close } = await engine.fresh();
    try {
      const store = records.open<unknown>("things");
      const value = {
        bytes: new Uint8Array([0, 1, 255]),
        n: 2 ** 40,
        f: -1.5,
        s: "é\u0000x",
        list: [1, "a", null],
      };
      expect(await store.get("a")).toBeUndefined();
      await store.put("a", value);
      // Byte arrays come back as Uint8Array (a Buffer, its subclass, on both engines).
      const { bytes, ...rest } = (await store.get("a")) as typeof value;
      const { bytes: sent, ...sentRest } = value;
      expect(new Uint8Array(bytes)).toEqual(sent);
      expect(rest).toEqual(sentRest);
      expect(await store.delete("a")).toBe(true);
      expect(await store.delete("a")).toBe(false);
      expect(await store.get("a")).toBeUndefined();
      // Namespaces keep apart.
      await records.open<number>("one").put("k", 1);
      expect(await records.open<number>("two").get("k")).toBeUndefined();
    } finally {
      await close();
    }
  });

  it("ranges over a prefix in UTF-8 byte order (property)", async () => {
    const { records, close } = await engine.fresh();
    try {
      const store = records.open<number>("prefixes");
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.string({ unit: "binary", minLength: 1, maxLength: 6 }), { maxLength: 12 }),
          fc.string({ unit: "binary", maxLength: 2 }),
          async (keys, prefix) => {
            for (const { key } of await store.range()) await store.delete(key);
            for (const [i, key] of keys.entries()) await store.put(key, i);
            const expected = keys
              .filter((key) => key.startsWith(prefix))
              .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
            expect((await store.range(prefix)).map((e) => e.key)).toEqual(expected);
          },
        ),
        { numRuns: engine.name === "postgres" ? 25 : 100 },
      );
    } finally {
      await close();
    }
  });

  it("updates atomically across two processes: no lost increment, one winner of a claim", async () => {
    const { records, second, close } = await engine.fresh();
    try {
      const a = records.open<number>("counters");
      const b = (await second()).open<number>("counters");
      const increment = (store: typeof a) =>
        store.update(["n"], (current) => ({
          writes: new Map([["n", (current.get("n") ?? 0) + 1]]),
          result: undefined,
        }));
      await Promise.all(Array.from({ length: 40 }, (_, i) => increment(i % 2 ? a : b)));
      expect(await a.get("n")).toBe(40);

      const claim = (store: typeof a, who: number) =>
        store.update(["owner"], (current) =>
          current.has("owner") ? { result: false } : { writes: new Map([["owner", who]]), result: true },
        );
      const won = await Promise.all(Array.from({ length: 20 }, (_, i) => claim(i % 2 ? a : b, i)));
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(await b.get("owner")).toBe(won.indexOf(true));
    } finally {
      await close();
    }
  });

  it("tells watchers of writes, deletes and updates", async () => {
    const { records, close } = await engine.fresh();
    try {
      const store = records.open<string>("watched");
      const heard: (string | undefined)[] = [];
      const stop = store.watch((key) => heard.push(key));
      await store.put("x", "1");
      await store.update(["y"], () => ({ writes: new Map([["y", "2"]]), result: undefined }));
      await store.delete("x");
      await eventually(() => ["x", "y"].every((key) => heard.includes(key)));
      stop();
      const before = heard.length;
      await store.put("z", "3");
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(heard.slice(before)).not.toContain("z");
    } finally {
      await close();
    }
  });

  it("refuses an oversized value or a bad key or namespace and writes nothing", async () => {
    const { records, close } = await engine.fresh();
    try {
      const store = records.open<unknown>("limits");
      await expect(store.put("big", "x".repeat(MAX_RECORD_BYTES + 1))).rejects.toBeInstanceOf(
        RecordValueError,
      );
      await expect(
        store.update(["big"], () => ({
          writes: new Map([["big", new Uint8Array(MAX_RECORD_BYTES + 1)]]),
          result: 1,
        })),
      ).rejects.toBeInstanceOf(RecordValueError);
      expect(await store.get("big")).toBeUndefined();
      await expect(store.put("", 1)).rejects.toThrow(RangeError);
      await expect(store.put("k".repeat(2000), 1)).rejects.toThrow(RangeError);
      expect(() => records.open("Bad Name")).toThrow(RangeError);
      expect(await store.range()).toEqual([]);
    } finally {
      await close();
    }
  });
});
