import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CodecError,
  decodeTaggedJson,
  encodeTaggedJson,
  fromTaggedJson,
  MixCase,
  MixHandle,
  MixOpaque,
  MixToken,
  type MixValue,
  mixEqual,
  ref,
  TaggedString,
  toTaggedJson,
} from "../src/index.js";
import { largeMixValue, mixValue } from "./arbitraries.js";

describe("tagged JSON, as the Groovebox's JS host writes it", () => {
  it("writes the specials, binary, cases and tagged strings as _rmx_type objects", () => {
    expect(toTaggedJson(undefined)).toEqual({ _rmx_type: "{tag}undefined" });
    expect(toTaggedJson([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5])).toEqual([
      { _rmx_type: "{tag}nan" },
      { _rmx_type: "{tag}posinf" },
      { _rmx_type: "{tag}neginf" },
      1.5,
    ]);
    expect(toTaggedJson(new Uint8Array([104, 105]))).toEqual({ _rmx_type: "{tag}bin", _rmx_value: "aGk=" });
    expect(toTaggedJson(new MixCase("none"))).toEqual({ _rmx_type: "{tag}case:none" });
    expect(toTaggedJson(new MixCase("some", 1))).toEqual({ _rmx_type: "{tag}case:some", _rmx_value: 1 });
    expect(toTaggedJson(ref("abc"))).toEqual({ _rmx_type: "{tag}case:db.ref", _rmx_value: "abc" });
    expect(toTaggedJson(new TaggedString("color:css", "red"))).toEqual({
      _rmx_type: "{tag}color:css",
      _rmx_value: "red",
    });
  });

  it("escapes a user map's _rmx_type that looks like a tag with {str}", () => {
    expect(toTaggedJson({ _rmx_type: "{tag}nan" })).toEqual({ _rmx_type: "{str}{tag}nan" });
    expect(toTaggedJson({ _rmx_type: "msg_response" })).toEqual({ _rmx_type: "msg_response" });
    expect(decodeTaggedJson('{"_rmx_type":"{str}{tag}nan","x":1}')).toEqual({ _rmx_type: "{tag}nan", x: 1 });
    expect(encodeTaggedJson({ a: { _rmx_type: "{ref}x" } })).toBe('{"a":{"_rmx_type":"{str}{ref}x"}}');
  });

  it("reads what the JS host and clients send", () => {
    const json =
      '[{"_rmx_type":"{tag}undefined"},{"_rmx_type":"{tag}null"},{"_rmx_type":"{tag}str","_rmx_value":"s"},' +
      '{"_rmx_type":"{tag}case:db.ref","_rmx_value":"id1"},{"_rmx_type":"{tag}handle","_rmx_value":7},' +
      '{"_rmx_type":"{tag}case:ok","_rmx_value":{"n":-0}},{"_rmx_type":"{tag}unknown","_rmx_value":3}]';
    const v = decodeTaggedJson(json) as MixValue[];
    expect(
      mixEqual(v.slice(0, 5), [undefined, null, "s", ref("id1"), new MixHandle(new Uint32Array([7]))]),
    ).toBe(true);
    expect(mixEqual(v[5], new MixCase("ok", { n: -0 }))).toBe(true);
    expect(
      mixEqual(
        decodeTaggedJson('{"_rmx_type":"{tag}handle","_rmx_value":"12"}'),
        new MixHandle(new Uint32Array([12])),
      ),
    ).toBe(true);
    // An unknown kind with a non-string value stays a map, as the host reads it.
    expect(v[6]).toEqual({ _rmx_type: "{tag}unknown", _rmx_value: 3 });
  });

  it("keeps tagged strings whose tag names a special kind apart from that kind", () => {
    const tricky = [
      new TaggedString("nan", "x"),
      new TaggedString("case:y", "z"),
      new TaggedString("bin", ""),
    ];
    expect(toTaggedJson(tricky[0])).toEqual({ _rmx_type: "{tag}tag", _rmx_value: "{nan}x" });
    expect(mixEqual(decodeTaggedJson(encodeTaggedJson(tricky)), tricky)).toBe(true);
  });

  it("carries int64, opaque and token losslessly (the JS host prints them as placeholders)", () => {
    const v = [
      2n ** 62n,
      new MixOpaque(new Uint32Array([1, 2])),
      new MixToken(9, new Uint8Array([1]), { a: 1 }),
    ];
    expect(toTaggedJson(v)).toEqual([
      { _rmx_type: "{tag}int64", _rmx_value: "4611686018427387904" },
      { _rmx_type: "{tag}opaque", _rmx_value: [1, 2] },
      { _rmx_type: "{tag}token", _rmx_value: { enabledOps: 9, data: "AQ==", extras: { a: 1 } } },
    ]);
    expect(mixEqual(decodeTaggedJson(encodeTaggedJson(v)), v)).toBe(true);
  });

  it("writes -0 as 0 in text, like JSON.stringify, but reads -0", () => {
    expect(encodeTaggedJson([-0])).toBe("[0]");
    expect(Object.is((decodeTaggedJson("[-0]") as number[])[0], -0)).toBe(true);
  });
});

describe("tagged JSON round trips", () => {
  it("fromTaggedJson(toTaggedJson(v)) equals v, and leaves its input alone", () => {
    fc.assert(
      fc.property(mixValue({ json: true }), (v) => {
        const tree = toTaggedJson(v);
        const before = JSON.stringify(tree);
        expect(mixEqual(fromTaggedJson(tree), v)).toBe(true);
        expect(JSON.stringify(tree)).toBe(before);
      }),
      { numRuns: 1000 },
    );
  });

  it("decodeTaggedJson(encodeTaggedJson(v)) equals v, for nested, unicode, empty and large values", () => {
    fc.assert(
      fc.property(mixValue({ json: true }), (v) => mixEqual(decodeTaggedJson(encodeTaggedJson(v)), v)),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(largeMixValue({ json: true }), (v) => mixEqual(decodeTaggedJson(encodeTaggedJson(v)), v)),
      { numRuns: 20 },
    );
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

describe("tagged JSON bad input", () => {
  it("reports syntax errors with their position, and enforces size and depth limits", () => {
    const e = codecError(() => decodeTaggedJson('{"a": tru}'));
    expect([e.code, e.offset]).toEqual(["bad_json", 6]);
    expect(codecError(() => decodeTaggedJson("[1,2,3]", { maxLength: 4 })).code).toBe("too_large");
    expect(
      codecError(() => decodeTaggedJson(`${"[".repeat(100)}${"]".repeat(100)}`, { maxDepth: 50 })).code,
    ).toBe("too_deep");
    expect(codecError(() => decodeTaggedJson(new Uint8Array([0x22, 0xff, 0x22]))).code).toBe("bad_utf8");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(codecError(() => encodeTaggedJson(cyclic as never)).code).toBe("too_deep");
  });

  it("refuses malformed specials", () => {
    for (const bad of [
      '{"_rmx_type":"{tag}bin","_rmx_value":"!!"}',
      '{"_rmx_type":"{tag}bin","_rmx_value":3}',
      '{"_rmx_type":"{tag}int64","_rmx_value":"99999999999999999999"}',
      '{"_rmx_type":"{tag}opaque","_rmx_value":[-1]}',
      '{"_rmx_type":"{tag}token","_rmx_value":{"enabledOps":1.5,"data":""}}',
      '{"_rmx_type":"{tag}tag","_rmx_value":"no tag"}',
    ]) {
      expect(codecError(() => decodeTaggedJson(bad)).code).toBe("bad_json");
    }
  });
});
