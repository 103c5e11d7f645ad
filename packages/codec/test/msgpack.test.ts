import { decode as referenceDecode, encode as referenceEncode } from "@msgpack/msgpack";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CodecError,
  decodeMsgpack,
  encodeMsgpack,
  MixCase,
  mixEqual,
  ref,
  TaggedString,
} from "../src/index.js";
import { isTagName, taggedFormEnd } from "../src/msgpack/ext.js";
import { largeMixValue, mixValue } from "./arbitraries.js";
import { openSample, sampleApps, sampleFiles, samplesDir } from "./samples.js";

/**
 * Plain JSON values (no -0, no strings that read as {tag}value): what any msgpack library agrees on.
 * No `__proto__` keys either: @msgpack/msgpack refuses to decode them (we keep them as own keys).
 */
const plainJson = fc
  .jsonValue()
  .filter(
    (v) =>
      !JSON.stringify(v).includes('"{') && !JSON.stringify(v).includes('"__proto__"') && !hasNegativeZero(v),
  );

function hasNegativeZero(v: unknown): boolean {
  if (Object.is(v, -0)) return true;
  if (Array.isArray(v)) return v.some(hasNegativeZero);
  if (v && typeof v === "object") return Object.values(v).some(hasNegativeZero);
  return false;
}

describe("msgpack", () => {
  it("decode(encode(v)) equals v for any Mix value, nested, unicode, empty and large", () => {
    fc.assert(
      fc.property(mixValue(), (v) => mixEqual(decodeMsgpack(encodeMsgpack(v)), v)),
      { numRuns: 1500 },
    );
    fc.assert(
      fc.property(largeMixValue(), (v) => mixEqual(decodeMsgpack(encodeMsgpack(v)), v)),
      { numRuns: 20 },
    );
  });

  it("speaks standard msgpack for plain values, both ways, with @msgpack/msgpack", () => {
    fc.assert(
      fc.property(plainJson, (v) => {
        expect(referenceDecode(encodeMsgpack(v as never))).toEqual(v);
        expect(mixEqual(decodeMsgpack(referenceEncode(v)), v as never)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("writes refs as {ref} strings, as .remix archives hold them, and keeps look-alike strings plain", () => {
    expect(referenceDecode(encodeMsgpack({ _rmx_rev: ref("abc") }))).toEqual({ _rmx_rev: "{ref}abc" });
    expect(decodeMsgpack(referenceEncode({ r: "{ref}abc", s: "{not a tag" }))).toEqual({
      r: ref("abc"),
      s: "{not a tag",
    });
    const lookalikes = ["{ref}abc", "{x:y}z", new TaggedString("odd tag", "v"), new MixCase("c", 1)];
    expect(mixEqual(decodeMsgpack(encodeMsgpack(lookalikes)), lookalikes)).toBe(true);
  });

  it("tells tag-like strings from tagged strings for any text between braces", () => {
    const tagish = fc.string({ unit: fc.constantFrom(..."aZ_$9.-:{} é}"), maxLength: 8 });
    const text = fc.tuple(tagish, fc.string({ maxLength: 6 })).map(([t, rest]) => `{${t}}${rest}`);
    fc.assert(
      fc.property(text, fc.boolean(), (s, asTagged) => {
        const close = s.indexOf("}");
        const v = asTagged ? new TaggedString(s.slice(1, close), s.slice(close + 1)) : s;
        expect(mixEqual(decodeMsgpack(encodeMsgpack(v)), v)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("writes integers in the signed forms and keeps 64-bit integers apart from numbers", () => {
    expect(Array.from(encodeMsgpack(300))).toEqual([0xd1, 0x01, 0x2c]);
    expect(Array.from(encodeMsgpack(-0))).toEqual([0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0]);
    expect(decodeMsgpack(encodeMsgpack(5n))).toBe(5n);
    expect(decodeMsgpack(encodeMsgpack(-(2 ** 40)))).toBe(-(2 ** 40));
    // A foreign int64 beyond 2^53 has no exact number: it becomes a bigint.
    expect(decodeMsgpack(referenceEncode(2n ** 60n, { useBigInt64: true }))).toBe(2n ** 60n);
  });
});

describe("msgpack writer and reader internals", () => {
  it("hands out results whose bytes never change, across blocks, nested calls and failures", () => {
    const values = Array.from({ length: 3000 }, (_, i) => ({
      i,
      text: `value ${i}`.repeat(i % 5),
      r: ref(`r${i}`),
    }));
    const encoded = values.map((v) => encodeMsgpack(v));
    const copies = encoded.map((b) => b.slice());
    // A failed encode and a huge value in between must not disturb what was handed out.
    expect(() => encodeMsgpack({ a: "x".repeat(100), f: (() => 1) as never })).toThrow(CodecError);
    const big = encodeMsgpack("y".repeat(100_000));
    expect(big.length).toBe(100_005);
    // A case whose payload outgrows the block while its header waits to be patched.
    const bigCase = new MixCase("c", ["z".repeat(20_000), new MixCase("d", "w".repeat(20_000))]);
    expect(mixEqual(decodeMsgpack(encodeMsgpack(bigCase)), bigCase)).toBe(true);
    encoded.push(encodeMsgpack(values[0]!));
    copies.push(copies[0]!);
    for (const [i, b] of encoded.entries()) {
      expect(Buffer.from(b).equals(Buffer.from(copies[i]!))).toBe(true);
      expect(mixEqual(decodeMsgpack(b), values[i % values.length]!)).toBe(true);
    }
    // A getter that encodes while the outer encode runs gets a buffer of its own.
    const outer = {
      a: "before",
      get b() {
        return decodeMsgpack(encodeMsgpack({ inner: "x".repeat(40) })) as never;
      },
      c: "after",
    };
    expect(decodeMsgpack(encodeMsgpack(outer as never))).toEqual({
      a: "before",
      b: { inner: "x".repeat(40) },
      c: "after",
    });
  });

  it("writes strings at the header size boundaries and around the JS/native UTF-8 paths", () => {
    for (const n of [0, 1, 31, 32, 63, 64, 65, 255, 256, 65535, 65536]) {
      for (const s of ["a".repeat(n), `${"a".repeat(Math.max(0, n - 1))}é`, `${"b".repeat(n)}😀`]) {
        const bytes = encodeMsgpack(s);
        expect(referenceDecode(bytes)).toBe(s);
        expect(decodeMsgpack(bytes, { strictUtf8: true })).toBe(s);
        expect(bytes.length).toBe(referenceEncode(s).length); // the smallest header
        const tagged = new TaggedString("ref", s);
        expect(mixEqual(decodeMsgpack(encodeMsgpack(tagged)), tagged)).toBe(true);
        expect(
          mixEqual(
            decodeMsgpack(encodeMsgpack(new TaggedString(`t:${s}`, s))),
            new TaggedString(`t:${s}`, s),
          ),
        ).toBe(true);
      }
    }
    // Invalid UTF-8 in a short string: replaced, or refused in strict mode.
    const bad = new Uint8Array([0xa3, 0x61, 0xff, 0x62]);
    expect(decodeMsgpack(bad)).toBe("a\ufffdb");
    expect(codecError(() => decodeMsgpack(bad, { strictUtf8: true })).code).toBe("bad_utf8");
  });

  it("reads map keys right when they differ from the keys of the value before (key prediction)", () => {
    const shapes = [
      { alpha: 1, beta: 2, gamma: 3 },
      { alphb: 1, betb: 2, gammb: 3 },
      { beta: 1, alpha: 2 },
      { é: 1, alpha: { alpha: 2, beta: [{ gamma: 3 }] } },
      { ["k".repeat(24)]: 1, ["k".repeat(25)]: 2, [`${"x".repeat(23)}y`]: 3 },
    ];
    for (let round = 0; round < 3; round++) {
      for (const shape of shapes) expect(decodeMsgpack(encodeMsgpack(shape))).toEqual(shape);
    }
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(fc.string({ maxLength: 6 }), fc.integer()), { maxLength: 8 }),
        (maps) => {
          for (const m of maps) expect(mixEqual(decodeMsgpack(encodeMsgpack(m)), m)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("decides the tagged form of a TaggedString exactly as a reader of its text does", () => {
    const tagish = fc.string({ unit: fc.constantFrom(..."aZ_$9.-:{} é}\u0000"), maxLength: 8 });
    fc.assert(
      fc.property(tagish, (tag) => {
        expect(isTagName(tag)).toBe(taggedFormEnd(`{${tag}}v`) === tag.length + 1);
      }),
      { numRuns: 3000 },
    );
  });
});

describe.skipIf(!samplesDir)("the .mp entries of the public sample apps", () => {
  for (const file of sampleFiles) {
    it(`reads ${file}'s .mp entries and re-encodes them byte for byte`, () => {
      const entries = openSample(file);
      const [app] = sampleApps(entries);
      const names = Object.keys(entries).filter((n) => n.endsWith(".mp"));
      expect(names).toEqual(expect.arrayContaining(["records.mp", `apps/${app}.mp`]));
      for (const name of names) {
        const bytes = entries[name]!;
        const value = decodeMsgpack(bytes);
        expect(Buffer.from(encodeMsgpack(value)).equals(Buffer.from(bytes))).toBe(true);
      }
      const [record] = decodeMsgpack(entries[`apps/${app}.mp`]!) as Record<string, never>[];
      console.log(`${file}: apps/${app}.mp holds`, record);
      expect(record!._rmx_type).toBe("app");
      expect(record!._rmx_rev).toBeInstanceOf(TaggedString);
      expect((record!.settings as unknown as Record<string, unknown>)["compile-mode"]).toBe("Wasm");
    });
  }
});

function codecError(f: () => unknown): CodecError {
  try {
    f();
  } catch (e) {
    if (e instanceof CodecError) return e;
    throw e;
  }
  throw new Error("expected a CodecError");
}

describe("msgpack bad input", () => {
  it("checks lengths against what remains before allocating", () => {
    // An array claiming 2^32-1 items in 5 bytes.
    const e = codecError(() => decodeMsgpack(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff])));
    expect([e.code, e.offset]).toEqual(["truncated", 5]);
    expect(codecError(() => decodeMsgpack(new Uint8Array([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]))).code).toBe(
      "truncated",
    );
    expect(codecError(() => decodeMsgpack(new Uint8Array([0xc1]))).code).toBe("bad_msgpack");
    expect(codecError(() => decodeMsgpack(new Uint8Array([0x81, 0x01, 0x02]))).code).toBe("bad_msgpack");
    expect(codecError(() => decodeMsgpack(new Uint8Array([0x01, 0x02]))).offset).toBe(1);
    expect(codecError(() => decodeMsgpack(new Uint8Array([0xd4, 0x63, 0x00]))).code).toBe("unsupported");
    expect(codecError(() => decodeMsgpack(new Uint8Array(200).fill(0x91), { maxDepth: 100 })).code).toBe(
      "too_deep",
    );
  });
});
