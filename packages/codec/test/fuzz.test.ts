import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CodecError,
  type CodecErrorCode,
  decodeMsgpack,
  decodeRmx,
  decodeTaggedJson,
  encodeMsgpack,
  encodeRmx,
  encodeTaggedJson,
  fromTaggedJson,
  type MixValue,
} from "../src/index.js";
import { mixValue } from "./arbitraries.js";

/**
 * Bad-input fuzzing: at least 10,000 random or mutated inputs per decoder.
 * A decoder may return a value or throw a CodecError carrying a code (and,
 * for the binary formats, a byte offset inside the input); anything else
 * (RangeError, TypeError, a hang) fails the run.
 */
const RUNS = 10_000;
/** Generous per-input bound on a shared 2-core machine (JIT warm-up included); inputs take microseconds. */
const SLOW_MS = 1000;
const CODES = new Set<string>([
  "truncated",
  "out_of_bounds",
  "bad_tag",
  "bad_size",
  "bad_padding",
  "bad_crc",
  "bad_utf8",
  "cycle",
  "too_deep",
  "too_large",
  "bad_json",
  "bad_msgpack",
  "bad_value",
  "unsupported",
] satisfies CodecErrorCode[]);

function expectOnlyCodecErrors(decode: () => unknown, inputLength: number, withOffset: boolean): void {
  const started = performance.now();
  try {
    decode();
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    expect(CODES.has(e.code)).toBe(true);
    if (withOffset) {
      expect(e.offset).toBeTypeOf("number");
      expect(e.offset).toBeGreaterThanOrEqual(0);
      expect(e.offset).toBeLessThanOrEqual(Math.max(inputLength, 256 * 1024 * 1024));
    }
  }
  expect(performance.now() - started).toBeLessThan(SLOW_MS);
}

/** Damages an encoding: overwrite, insert or delete bytes, or cut it short. */
function mutated(encode: (v: never) => Uint8Array): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant("set" as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
    fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
    fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), byte: fc.constant(0) }),
    fc.record({ kind: fc.constant("cut" as const), at: fc.nat(), byte: fc.constant(0) }),
  );
  return fc.tuple(mixValue(), fc.array(edit, { minLength: 1, maxLength: 4 })).map(([v, edits]) => {
    let bytes = Array.from(encode(v as never));
    for (const { kind, at, byte } of edits) {
      const i = bytes.length === 0 ? 0 : at % bytes.length;
      if (kind === "set") bytes[i] = byte;
      else if (kind === "insert") bytes.splice(i, 0, byte);
      else if (kind === "delete") bytes.splice(i, 1);
      else bytes = bytes.slice(0, i);
    }
    return new Uint8Array(bytes);
  });
}

/** RmxCodec damage at word level: sizes, tags and pointers replaced by small or huge numbers. */
const mutatedRmxWords = fc
  .tuple(
    mixValue(),
    fc.array(
      fc.record({
        at: fc.nat(),
        word: fc.oneof(
          fc.nat({ max: 64 }).map((n) => n * 4),
          fc.nat({ max: 40 }),
          fc.constant(0xffffffff),
          fc.nat(),
        ),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([v, edits]) => {
    const bytes = encodeRmx(v);
    const words = new Uint32Array(bytes.buffer, 0, bytes.length / 4);
    for (const { at, word } of edits) words[at % words.length] = word;
    return bytes;
  });

const rmxOptions = fc.record({
  checkCrc: fc.boolean(),
  strictUtf8: fc.boolean(),
  maxDepth: fc.constantFrom(4, 64, 512),
});

describe("fuzzing: decoders throw only CodecError, never hang", () => {
  it(`decodeRmx: ${RUNS} random, mutated and word-damaged inputs`, () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 96 }),
      fc.uint32Array({ maxLength: 24 }).map((w) => new Uint8Array(w.buffer)),
      mutated(encodeRmx),
      mutatedRmxWords,
    );
    fc.assert(
      fc.property(input, rmxOptions, (bytes, options) => {
        expectOnlyCodecErrors(() => decodeRmx(bytes, options), bytes.length, true);
      }),
      { numRuns: RUNS },
    );
  });

  it(`decodeMsgpack: ${RUNS} random and mutated inputs`, () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 96 }), mutated(encodeMsgpack)),
        fc.boolean(),
        (bytes, strictUtf8) => {
          expectOnlyCodecErrors(() => decodeMsgpack(bytes, { strictUtf8, maxDepth: 64 }), bytes.length, true);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(`decodeTaggedJson: ${RUNS} random texts, mutated encodings and bytes`, () => {
    const text = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.string({ unit: fc.constantFrom(...'{}[]",:0123456789-.eE truefalsnl\\u'), maxLength: 60 }),
      mutated((v) => new TextEncoder().encode(encodeTaggedJson(v))).map((b) => new TextDecoder().decode(b)),
    );
    fc.assert(
      fc.property(fc.oneof(text, fc.uint8Array({ maxLength: 60 })), (input) => {
        expectOnlyCodecErrors(() => decodeTaggedJson(input, { maxDepth: 64 }), input.length, false);
      }),
      { numRuns: RUNS },
    );
  });

  it(`fromTaggedJson: ${RUNS} JSON trees full of _rmx_type objects`, () => {
    const special = fc.record({
      _rmx_type: fc.oneof(
        fc.constantFrom(
          ..."undefined null nan posinf neginf str bin int64 tag handle opaque token case:x case:db.ref ref x:y"
            .split(" ")
            .map((k) => `{tag}${k}`),
          "{str}{tag}nan",
          "{str}",
        ),
        fc.string({ maxLength: 12 }),
      ),
      _rmx_value: fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        fc.constant({ enabledOps: 1, data: "AA==", extras: 3 }),
      ),
    });
    const tree = fc.oneof(special, fc.array(special, { maxLength: 3 }), fc.jsonValue({ maxDepth: 3 }));
    fc.assert(
      fc.property(tree, (json) => {
        expectOnlyCodecErrors(() => fromTaggedJson(json, { maxDepth: 64 }), 0, false);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("limits hold far beyond the defaults", () => {
  it("turns a stack overflow into too_deep when a caller lifts maxDepth", () => {
    let deep: MixValue = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    for (const f of [
      () => encodeRmx(deep, { maxDepth: 1e9 }),
      () => encodeMsgpack(deep, { maxDepth: 1e9 }),
    ]) {
      expect(() => f()).toThrow(expect.objectContaining({ code: "too_deep" }));
    }
    const text = `${"[".repeat(1_000_000)}${"]".repeat(1_000_000)}`;
    expect(() => decodeTaggedJson(text)).toThrow(expect.objectContaining({ code: "too_deep" }));
  });
});
