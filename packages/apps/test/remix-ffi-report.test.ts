import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeRmx } from "@amp/codec";
import { buildRemix, remixArtifactsFor } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { customSection, FFI_REPORT_META, type FfiReport, importRemix, type KnownFfis } from "../src/index.js";
import { root } from "./helpers.js";
import { startTestServer, type TestServer } from "./http-helpers.js";

async function* once(bytes: Uint8Array) {
  yield bytes;
}

/** A Wasm binary that holds only a `mix_qcode` custom section naming these builtins and FFIs. */
function wasmWithQcode(builtins: string[], ffis: string[]): Uint8Array {
  const payload = encodeRmx([["qcode-5"], [builtins, ffis]], { crc: true });
  const leb = (n: number) => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const name = new TextEncoder().encode("mix_qcode");
  const body = [...leb(name.length), ...name, ...payload];
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, ...leb(body.length), ...body]);
}

/** What a server that answers a few FFIs and refuses one would pass in (amp passes `trackFfiCatalog()`). */
const known: KnownFfis = {
  answered: ["$http_do", "$outputWithVersion", "$log"],
  refused: { $binary_compress: "not implemented" },
};

describe(".remix import: FFIs the server would not answer", () => {
  let s: TestServer;
  beforeAll(() => {
    s = startTestServer({ ffis: known });
  });
  afterAll(() => s.close());

  it("lists an unknown FFI (and a refused one) in the import result and the app's metadata", async () => {
    const exe = wasmWithQcode(["string_length"], ["$http_do", "$log", "$made_up_ffi", "$binary_compress"]);
    const archive = buildRemix("ffi_unknown", { "apps/ffi_unknown/libraries/executable_cross.WASM": exe });
    const [info] = await importRemix(s.apps, root, once(archive), { ffis: known });
    expect(info).toMatchObject({
      name: "ffi_unknown",
      ffis: ["$binary_compress", "$http_do", "$log", "$made_up_ffi"],
      unansweredFfis: ["$binary_compress", "$made_up_ffi"],
    });
    const stored = await (await s.apps.store(root, "ffi_unknown", ["allowed_build"])).getMeta<FfiReport>(
      FFI_REPORT_META,
    );
    expect(stored).toEqual({
      ffis: ["$binary_compress", "$http_do", "$log", "$made_up_ffi"],
      unansweredFfis: ["$binary_compress", "$made_up_ffi"],
    });
  });

  it("an app whose code names only answered FFIs reports none; unreadable code never fails the import", async () => {
    const exe = wasmWithQcode([], ["$http_do"]);
    const clean = buildRemix("ffi_clean", { "apps/ffi_clean/libraries/executable_cross.WASM": exe });
    const [info] = await importRemix(s.apps, root, once(clean), { ffis: known });
    expect(info!.unansweredFfis).toEqual([]);
    // the fixture's executable is not real compiled code: the import works, the report says why
    const [plain] = await importRemix(s.apps, root, once(buildRemix("ffi_plain")), { ffis: known });
    expect(plain!.unansweredFfis).toEqual([]);
    const report = await (await s.apps.store(root, "ffi_plain", ["allowed_build"])).getMeta<FfiReport>(
      FFI_REPORT_META,
    );
    expect(report?.unreadable?.["executable_cross.WASM"]).toBeTruthy();
    // without the known FFIs, only the list
    const [bare] = await importRemix(
      s.apps,
      root,
      once(buildRemix("ffi_bare", { "apps/ffi_bare/libraries/executable_cross.WASM": exe })),
    );
    expect(bare).toMatchObject({ ffis: ["$http_do"] });
    expect(bare!.unansweredFfis).toBeUndefined();
  });

  it("POST /x/apps/import answers with unansweredFfis when the routes know the server's FFIs", async () => {
    const exe = wasmWithQcode([], ["$http_do", "$another_unknown"]);
    const archive = buildRemix("ffi_http", { "apps/ffi_http/libraries/executable_cross.WASM": exe });
    const res = await s.request("root", "POST", "/x/apps/import", archive, {
      "content-type": "application/zip",
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject([{ name: "ffi_http", unansweredFfis: ["$another_unknown"] }]);
  });

  it("customSection refuses what is not Wasm and finds a section without compiling", () => {
    expect(() => customSection(new Uint8Array([1, 2, 3]), "mix_qcode")).toThrow(/not a Wasm binary/);
    expect(customSection(wasmWithQcode([], []), "other")).toBeUndefined();
    expect(() => customSection(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0, 50, 1]), "x")).toThrow(
      /truncated/,
    );
  });
});

const artifacts = remixArtifactsFor("apps .remix FFI report (sample apps)");

describe.skipIf(!artifacts)(".remix import of the public samples", () => {
  let s: TestServer;
  beforeAll(() => {
    s = startTestServer();
  });
  afterAll(() => s.close());

  it("reads the qcode of the real apps; a server answering none of them reports every one", async () => {
    const archive = new Uint8Array(readFileSync(join(artifacts!.samples, "tim-wasm.remix")));
    const [info] = await importRemix(s.apps, root, once(archive), { ffis: { answered: [] } });
    expect(info!.ffis).toEqual(expect.arrayContaining(["$outputWithVersion", "$wasm_load"]));
    expect(info!.ffis!.length).toBeGreaterThan(30);
    expect(info!.unansweredFfis).toEqual(info!.ffis);
  });
});
