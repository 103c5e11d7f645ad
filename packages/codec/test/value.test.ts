import { describe, expect, it } from "vitest";
import { kindOf, MixCase, MixToken, mixEqual, mixMap, ref, tagged } from "../src/index.js";

describe("mixEqual", () => {
  it("treats NaN as equal to itself and distinguishes -0 from +0", () => {
    expect(mixEqual(Number.NaN, Number.NaN)).toBe(true);
    expect(mixEqual(-0, 0)).toBe(false);
    expect(mixEqual([Number.NaN], [Number.NaN])).toBe(true);
  });

  it("compares binary by bytes and maps regardless of key order", () => {
    expect(mixEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(mixEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(mixEqual({ a: 1, b: [2] }, { b: [2], a: 1 })).toBe(true);
    expect(mixEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
  });

  it("tells kinds apart even when their contents look alike", () => {
    expect(mixEqual(ref("x"), tagged("ref", "x"))).toBe(true);
    expect(mixEqual(ref("x"), "{ref}x")).toBe(false);
    expect(mixEqual(1n, 1)).toBe(false);
    expect(mixEqual(new MixCase("a"), new MixCase("a", null))).toBe(false);
    expect(mixEqual(new MixToken(1, new Uint8Array([1])), new MixToken(1, new Uint8Array([1]), {}))).toBe(
      true,
    );
    expect(kindOf(new Uint8Array())).toBe("binary");
  });

  it("keeps a __proto__ key as data", () => {
    const m = mixMap([["__proto__", 1]]);
    expect(Object.keys(m)).toEqual(["__proto__"]);
    expect(kindOf(m)).toBe("map");
  });
});
