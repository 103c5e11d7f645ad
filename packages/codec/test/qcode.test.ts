import { describe, expect, it } from "vitest";
import { decodeRmx, encodeRmx, mixEqual, readQcode } from "../src/index.js";
import { openSample, sampleApps, sampleFiles, samplesDir } from "./samples.js";

/** Names each sample app's code is known to use (seen when the apps run). */
const expected: Record<string, { ffis: string[]; builtins: string[] }> = {
  "tim-wasm.remix": {
    ffis: ["$outputWithVersion", "$mqtt_available", "$destroyHook", "$db_get_a"],
    builtins: ["$array_length"],
  },
  "collection.remix": {
    ffis: ["$outputWithVersion", "$http_do", "$decodeError", "$log"],
    builtins: ["$case_create"],
  },
};

describe.skipIf(!samplesDir)("the mix_qcode section of the public sample apps", () => {
  for (const file of sampleFiles) {
    it(`decodes ${file}, and its re-encoding decodes to an equal value`, () => {
      const entries = openSample(file);
      const [app] = sampleApps(entries);
      const wasm = entries[`apps/${app}/libraries/executable_cross.WASM`];
      expect(wasm).toBeDefined();
      const sections = WebAssembly.Module.customSections(
        new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>),
        "mix_qcode",
      );
      expect(sections).toHaveLength(1);
      const section = new Uint8Array(sections[0]!);

      const qcode = readQcode(section);
      console.log(
        `${file} (${app}): ${qcode.version}, ${section.length} bytes\n` +
          `  ${qcode.builtins.length} builtins: ${qcode.builtins.join(" ")}\n` +
          `  ${qcode.ffis.length} FFIs: ${qcode.ffis.join(" ")}`,
      );
      expect(qcode.version).toBe("qcode-5");
      expect(qcode.ffis).toEqual(expect.arrayContaining(expected[file]!.ffis));
      expect(qcode.builtins).toEqual(expect.arrayContaining(expected[file]!.builtins));

      const again = encodeRmx(qcode.value, { crc: true });
      expect(mixEqual(decodeRmx(again, { checkCrc: true }), qcode.value)).toBe(true);
      // Our writer lays blocks out exactly as the compiler does.
      expect(Buffer.from(again).equals(Buffer.from(section))).toBe(true);
    });
  }
});

describe("readQcode", () => {
  it("refuses a section without the qcode marker or name lists", () => {
    expect(() => readQcode(encodeRmx([["not-qcode"], [[], []]], { crc: true }))).toThrow(/qcode-<n> marker/);
    expect(() => readQcode(encodeRmx([["qcode-5"], [[1], []]], { crc: true }))).toThrow(/name lists/);
    const crcless = encodeRmx([["qcode-5"], [["a"], ["$b"]]]);
    expect(() => readQcode(crcless)).toThrow(/CRC/);
    expect(readQcode(encodeRmx([["qcode-5"], [["a"], ["$b"]]], { crc: true })).ffis).toEqual(["$b"]);
  });
});
