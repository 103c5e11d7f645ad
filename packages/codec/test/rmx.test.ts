import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CodecError,
  crc32,
  decodeRmx,
  encodeRmx,
  MixCase,
  MixHandle,
  MixToken,
  type MixValue,
  mixEqual,
  TaggedString,
} from "../src/index.js";
import { largeMixValue, mixValue } from "./arbitraries.js";

const words = (bytes: Uint8Array) =>
  Array.from(new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));

describe("RmxCodec layout (what mixrt_relocateInput accepts)", () => {
  it("writes scalars as [size, tag, payload] padded to an even word count", () => {
    expect(words(encodeRmx(undefined))).toEqual([1, 0, 1, 0xffffffff]);
    expect(words(encodeRmx(null))).toEqual([0, 2]);
    expect(words(encodeRmx(true))).toEqual([1, 1, 2, 0xffffffff]);
    expect(words(encodeRmx(false))).toEqual([1, 1, 0, 0xffffffff]);
    expect(words(encodeRmx(1))).toEqual([2, 4, 0, 0x3ff00000]);
    expect(words(encodeRmx(-2n))).toEqual([2, 3, 0xfffffffe, 0xffffffff]);
    expect(words(encodeRmx(new MixHandle(new Uint32Array([7]))))).toEqual([1, 6, 7, 0xffffffff]);
  });

  it("writes strings with a CRC word, zero padding and a final pad-count byte", () => {
    // "qcode-5": 7 bytes, 1 pad byte holding 0; floor(7/4)+2 = 3 payload words, then the even-word pad.
    const bytes = encodeRmx("qcode-5", { crc: true });
    expect(words(bytes).slice(0, 3)).toEqual([3, 8, crc32(new TextEncoder().encode("qcode-5"))]);
    expect(words(bytes)[2]).toBe(0xceb06eda);
    expect(Array.from(bytes.subarray(12, 20))).toEqual([...Buffer.from("qcode-5"), 0]);
    expect(words(bytes)[5]).toBe(0xffffffff);
    // The empty string: 4 pad bytes, the last one holding 3.
    expect(words(encodeRmx(""))).toEqual([2, 8, 0, 0x03000000]);
    // Without `crc` the word is 0, as the Groovebox's JS host writes it.
    expect(words(encodeRmx("abcd"))).toEqual([3, 8, 0, 0x64636261, 0x03000000, 0xffffffff]);
    expect(words(encodeRmx(new TaggedString("ref", "x")))[1]).toBe(9);
    expect(words(encodeRmx(new Uint8Array([1, 2])))).toEqual([2, 10, 0, 0x01000201]);
  });

  it("lays out arrays, maps (IOMAP), cases and tokens parent first, pointers as byte offsets", () => {
    expect(words(encodeRmx([null, true]))).toEqual([4, 0x210, 0, 2, 24, 32, 0, 2, 1, 1, 2, 0xffffffff]);
    expect(words(encodeRmx({ a: null }))).toEqual([2, 0x19, 16, 32, 2, 8, 0, 0x02000061, 0, 2]);
    expect(words(encodeRmx({}))).toEqual([0, 0x19]);
    expect(words(encodeRmx(new MixCase("c")))).toEqual([
      2, 26, 16, 32, 2, 8, 0, 0x02000063, 1, 0, 1, 0xffffffff,
    ]);
    const token = words(encodeRmx(new MixToken(9, new Uint8Array([5]), {})));
    expect(token.slice(0, 6)).toEqual([3, 0x11c, 9, 24, 40, 0xffffffff]);
    expect(token.slice(10)).toEqual([0, 0x19]);
  });
});

describe("RmxCodec round trips", () => {
  it("decode(encode(v)) equals v for any Mix value", () => {
    fc.assert(
      fc.property(mixValue(), fc.boolean(), (v, crc) => {
        const bytes = encodeRmx(v, { crc });
        expect(mixEqual(decodeRmx(bytes, { checkCrc: crc }), v)).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  it("round-trips large values", () => {
    fc.assert(
      fc.property(largeMixValue(), (v) => mixEqual(decodeRmx(encodeRmx(v)), v)),
      { numRuns: 30 },
    );
  });

  it("accepts the empty map tag 7 and unaligned input", () => {
    expect(decodeRmx(new Uint8Array(new Uint32Array([0, 7]).buffer))).toEqual({});
    const bytes = encodeRmx(["x", 1]);
    const shifted = new Uint8Array(bytes.length + 1).subarray(1);
    shifted.set(bytes);
    expect(decodeRmx(shifted)).toEqual(["x", 1]);
    // A Buffer from Buffer.concat (a file read out of a zip) sits anywhere in Node's pool.
    const pooled = Buffer.concat([Buffer.from([0]), bytes]).subarray(1);
    expect(pooled.byteOffset & 3).not.toBe(0);
    expect(decodeRmx(pooled)).toEqual(["x", 1]);
  });
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

const u32 = (...w: number[]) => new Uint8Array(new Uint32Array(w).buffer);

describe("RmxCodec bad input", () => {
  it("names truncation, out-of-range pointers and sizes with their byte offset", () => {
    expect(codecError(() => decodeRmx(new Uint8Array(6))).code).toBe("truncated");
    expect(codecError(() => decodeRmx(u32(3, 8, 0, 0))).code).toBe("truncated");
    const e = codecError(() => decodeRmx(u32(3, 0x210, 0, 1, 4096, 0xffffffff)));
    expect([e.code, e.offset]).toEqual(["out_of_bounds", 16]);
    expect(codecError(() => decodeRmx(u32(3, 0x210, 0, 1, 6, 0xffffffff))).code).toBe("out_of_bounds");
    expect(codecError(() => decodeRmx(u32(3, 0x210, 0, 5, 8, 0xffffffff))).code).toBe("bad_size");
    expect(codecError(() => decodeRmx(u32(0, 99))).code).toBe("bad_tag");
    expect(codecError(() => decodeRmx(u32(2, 8, 0, 0x07000000))).code).toBe("bad_padding");
  });

  it("detects pointer cycles and nesting beyond the limit", () => {
    // An array whose only element points back at itself.
    expect(codecError(() => decodeRmx(u32(3, 0x210, 0, 1, 0, 0xffffffff))).code).toBe("cycle");
    let deep: MixValue = [];
    for (let i = 0; i < 40; i++) deep = [deep];
    const bytes = encodeRmx(deep);
    expect(codecError(() => decodeRmx(bytes, { maxDepth: 10 })).code).toBe("too_deep");
    expect(codecError(() => encodeRmx(deep, { maxDepth: 10 })).code).toBe("too_deep");
  });

  it("verifies CRCs only when asked", () => {
    const bytes = encodeRmx("hello");
    expect(decodeRmx(bytes)).toBe("hello");
    const e = codecError(() => decodeRmx(bytes, { checkCrc: true }));
    expect([e.code, e.offset]).toEqual(["bad_crc", 8]);
  });

  it("bounds the work of blocks shared by many pointers", () => {
    // 30 arrays of two pointers, each to the next: 2^30 leaves from 60 blocks.
    const w: number[] = [];
    for (let i = 0; i < 30; i++) {
      const next = (i + 1) * 24;
      w.push(4, 0x210, 0, 2, next, next);
    }
    w.push(0, 2);
    expect(codecError(() => decodeRmx(u32(...w))).code).toBe("too_large");
  });

  it("refuses values it cannot represent", () => {
    expect(codecError(() => encodeRmx(2n ** 64n)).code).toBe("bad_value");
    expect(codecError(() => encodeRmx(new TaggedString("a}b", "x"))).code).toBe("bad_value");
    expect(codecError(() => encodeRmx(new Date() as never)).code).toBe("bad_value");
  });
});
