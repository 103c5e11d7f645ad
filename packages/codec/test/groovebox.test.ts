import { remixArtifactsFor } from "@amp/test-support";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeRmx,
  encodeRmx,
  MixCase,
  MixHandle,
  MixOpaque,
  MixToken,
  mixEqual,
  ref,
  TaggedString,
} from "../src/index.js";
import { mixValue } from "./arbitraries.js";
import { GrooveboxIO } from "./groovebox-io.js";

const wasm = remixArtifactsFor("the Groovebox I/O tests")?.groovebox;

/**
 * What the VM heap can hold: it turns 64-bit integers into numbers, does not
 * take handles from outside (the Groovebox aborts), and a map entry whose
 * value is undefined makes mixrt_copyYGtoIO fail (it returns 0 bytes). Token
 * operation bits imply others inside the VM (0x240 comes back as 0x25a), so
 * only plain sets of the documented bits (0: auth same org, 3: tostring) are compared.
 */
const vmValue = mixValue().filter((v) => !outsideVm(v, false));

function outsideVm(v: unknown, inMap: boolean): boolean {
  if (typeof v === "bigint" || v instanceof MixHandle || (inMap && v === undefined)) return true;
  if (Array.isArray(v)) return v.some((x) => outsideVm(x, false));
  if (v instanceof MixCase) return outsideVm(v.arg, false);
  if (v instanceof MixToken) return (v.enabledOps & ~9) !== 0 || outsideVm(v.extras, false);
  if (
    v &&
    typeof v === "object" &&
    !(v instanceof Uint8Array) &&
    !(v instanceof MixOpaque) &&
    !(v instanceof TaggedString)
  ) {
    return Object.values(v).some((x) => outsideVm(x, true));
  }
  return false;
}

describe.skipIf(!wasm)(
  "the real Groovebox reads what encodeRmx writes and writes what decodeRmx reads",
  () => {
    const vm = wasm ? new GrooveboxIO(wasm) : undefined;

    it("returns byte-identical blocks for values written with CRCs", () => {
      const value = [
        "qcode-5",
        ref("doc1"),
        new MixCase("ok", [1.5, null, true]),
        new MixToken(9, new Uint8Array([1, 2]), { e: "x" }),
      ];
      const block = encodeRmx(value, { crc: true });
      const out = vm!.roundTrip(block);
      expect(Buffer.from(out).equals(Buffer.from(block))).toBe(true);
      expect(decodeRmx(out, { checkCrc: true })).toEqual(value);
    });

    it("round-trips generated values through the VM heap", () => {
      fc.assert(
        fc.property(vmValue, (v) => {
          const out = vm!.roundTrip(encodeRmx(v));
          expect(mixEqual(decodeRmx(out), v)).toBe(true);
        }),
        { numRuns: 300 },
      );
    });

    it("turns a 64-bit integer into a number on the way in", () => {
      expect(decodeRmx(vm!.roundTrip(encodeRmx(5n)))).toBe(5);
    });
  },
);
