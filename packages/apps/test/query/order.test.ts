import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MixCase, type MixValue, TaggedString } from "@amp/codec";
import fc from "fast-check";
import { open } from "lmdb";
import { afterAll, describe, expect, it } from "vitest";
import { compareKeys, compareMix, encodeKey, indexKey, MAX_INDEX_KEY_BYTES } from "../../src/query/index.js";
import { mixValueArb } from "./arbitraries.js";

const sign = (n: number) => Math.sign(n);

describe("compareMix: a total order over Mix values", () => {
  it("orders kinds, then values within a kind", () => {
    const ascending: MixValue[] = [
      undefined,
      null,
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      -(2n ** 63n),
      -1.5,
      -1n,
      0,
      0.5,
      1n,
      2 ** 53,
      2n ** 53n + 1n,
      Number.POSITIVE_INFINITY,
      "",
      "B",
      "a",
      "ab",
      "\uffff",
      "\u{1F600}",
      new TaggedString("a", "z"),
      new TaggedString("ref", "a"),
      {},
      { a: 1 },
      { a: 1, b: 0 },
      { b: 0 },
      [],
      [1],
      [1, 2],
      [2],
      new Uint8Array([0]),
      new Uint8Array([0, 0]),
      new Uint8Array([1]),
      false,
      true,
      new MixCase("A"),
      new MixCase("A", null),
      new MixCase("B"),
    ];
    for (let i = 0; i < ascending.length; i++) {
      for (let j = 0; j < ascending.length; j++) {
        expect(compareMix(ascending[i], ascending[j]), `${i} vs ${j}`).toBe(sign(i - j));
      }
    }
  });

  it("treats f64 and int64 as one numeric kind, exactly", () => {
    expect(compareMix(3, 3n)).toBe(0);
    expect(compareMix(-0, 0n)).toBe(0);
    expect(compareMix(2 ** 53, 2n ** 53n + 1n)).toBe(-1); // 2^53+1 is not an f64
    expect(compareMix(2.5, 2n)).toBe(1);
    expect(compareMix(-2.5, -2n)).toBe(-1);
  });

  it("orders strings by code point, unlike JS's UTF-16 comparison", () => {
    expect("\u{1F600}" < "\uffff").toBe(true);
    expect(compareMix("\u{1F600}", "\uffff")).toBe(1);
    expect(compareMix("\ud83d", "\ud83d\ude00")).toBe(-1);
  });

  it("is antisymmetric and transitive", () => {
    fc.assert(
      fc.property(mixValueArb, mixValueArb, mixValueArb, (a, b, c) => {
        expect(compareMix(a, b)).toBe(-compareMix(b, a) || 0);
        expect(compareMix(a, a)).toBe(0);
        if (compareMix(a, b) <= 0 && compareMix(b, c) <= 0) expect(compareMix(a, c)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 3000 },
    );
  });

  it("never overflows the stack on deeply nested values", () => {
    let a: MixValue = 1;
    let b: MixValue = 2;
    for (let i = 0; i < 100_000; i++) {
      a = [a];
      b = [b];
    }
    expect(compareMix(a, b)).toBe(0); // equal below the depth cap
    expect(encodeKey(a).key).toStrictEqual(encodeKey(b).key);
  });
});

describe("encodeKey: order-preserving binary keys", () => {
  it("compares like compareMix, byte for byte", () => {
    fc.assert(
      fc.property(mixValueArb, mixValueArb, (a, b) => {
        const ka = encodeKey(a, Number.POSITIVE_INFINITY).key;
        const kb = encodeKey(b, Number.POSITIVE_INFINITY).key;
        expect(sign(compareKeys(ka, kb))).toBe(compareMix(a, b));
      }),
      { numRuns: 5000 },
    );
  });

  it("stays order-consistent when cut, and an exact key never ties with a cut one", () => {
    const long = fc.string({
      minLength: 300,
      maxLength: 400,
      unit: fc.constantFrom("a", "b", "é", "\u{1F600}"),
    });
    fc.assert(
      fc.property(fc.oneof(long, mixValueArb), fc.oneof(long, mixValueArb), (a, b) => {
        const ka = encodeKey(a, 64);
        const kb = encodeKey(b, 64);
        const c = compareKeys(ka.key, kb.key);
        if (c !== 0) expect(sign(c)).toBe(compareMix(a, b));
        else if (ka.exact || kb.exact) expect(compareMix(a, b)).toBe(0);
      }),
      { numRuns: 3000 },
    );
  });

  it("keeps index keys within MAX_INDEX_KEY_BYTES and leaves missing fields out", () => {
    expect(indexKey(undefined)).toBeUndefined();
    expect(indexKey("x".repeat(10_000))!.length).toBe(MAX_INDEX_KEY_BYTES);
  });

  const dir = mkdtempSync(join(tmpdir(), "amp-query-keys-"));
  const env = open({ path: dir });
  afterAll(async () => {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sorts in a real LMDB exactly as compareMix does", async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mixValueArb, { minLength: 1, maxLength: 30 }), async (values) => {
        const db = env.openDB<number, Uint8Array>({ name: `keys${round++}`, keyEncoding: "binary" });
        await db.transaction(() => {
          values.forEach((v, i) => {
            db.put(indexKey(v)!, i);
          });
        });
        const stored = [...db.getRange()].map(({ value }) => values[value]);
        const expected = [...values]
          .sort(compareMix)
          .filter((v, i, all) => i === 0 || compareMix(v, all[i - 1]) !== 0);
        expect(stored.length).toBe(expected.length);
        for (const [i, v] of stored.entries()) expect(compareMix(v, expected[i])).toBe(0);
        await db.drop();
      }),
      { numRuns: 60 },
    );
  });
});
