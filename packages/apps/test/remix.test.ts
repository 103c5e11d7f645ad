import { readFileSync } from "node:fs";
import { join } from "node:path";
import { mixEqual } from "@amp/codec";
import { buildRemix, remixArtifactsFor } from "@amp/test-support";
import { strToU8, unzipSync, zipSync } from "fflate";
import { beforeAll, describe, expect, it } from "vitest";
import { type Apps, type ArchiveProgress, exportRemix, importRemix } from "../src/index.js";
import { ENGINES, useEngine } from "./engines.js";
import { drain, root, user } from "./helpers.js";
import { serveApps, type TestServer } from "./http-helpers.js";

const EXECUTABLE_QUERY = '_rmx_type == "executable_cross" && variant == "WASM" | { dataRef }';

async function* chunks(bytes: Uint8Array, size = 7000): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Everything that makes two imported apps equal: documents without revision stamps, files, metadata. */
async function snapshot(apps: Apps, app: string) {
  const store = await apps.store(root, app, ["allowed_build"]);
  const strip = ({
    _rmx_rev,
    _rmx_previous,
    _rmx_created_at,
    _rmx_last_modified_at,
    ...rest
  }: Record<string, unknown>) => rest;
  const docs = (await drain(store.allDocuments())).map((d) => strip(d as Record<string, unknown>));
  return {
    docs,
    files: (await store.files.list()).map(({ modifiedAt, ...f }) => f),
    runtime: await store.getMeta("runtime.json"),
    resources: await store.getMeta("resources.json"),
    blobs: (await store.blobs.refs()).sort(),
  };
}

async function roundTrip(apps: Apps, archive: Uint8Array, rename: (name: string) => string) {
  const imported = await importRemix(apps, root, chunks(archive));
  for (const info of imported) {
    const exported = await collect(exportRemix(apps, root, { apps: { [info.name]: true } }));
    // Re-import under a new name (same app inside), then compare.
    const files = unzipSync(exported);
    const renamed: Record<string, Uint8Array> = {};
    const to = rename(info.name);
    for (const [path, data] of Object.entries(files)) {
      let p = path
        .replace(`apps/${info.name}/`, `apps/${to}/`)
        .replace(`apps/${info.name}.mp`, `apps/${to}.mp`);
      let d = data;
      if (path === "manifest.json")
        d = strToU8(JSON.stringify({ ...JSON.parse(Buffer.from(data).toString()), apps: { [to]: true } }));
      if (path === "records.mp") {
        const { decode, encode } = await import("@msgpack/msgpack");
        const recs = decode(data) as Record<string, unknown>;
        d = encode({ [to]: recs[info.name] });
      }
      renamed[p] = d;
      p = "";
    }
    await importRemix(apps, root, chunks(zipSync(renamed)));
    const a = await snapshot(apps, info.name);
    const b = await snapshot(apps, to);
    const norm = (s: Awaited<ReturnType<typeof snapshot>>) =>
      JSON.parse(
        JSON.stringify({
          ...s,
          docs: s.docs.map((d) => ({ ...d, name: d.name === to ? info.name : d.name })),
        }),
      );
    expect(mixEqual(a.docs as never, b.docs as never) || norm(a).docs).toBeTruthy();
    expect(norm(b)).toEqual(norm(a));
  }
  return imported;
}

describe.each(ENGINES)(".remix import and export (real %s)", (engineName) => {
  const engine = useEngine(engineName);
  let s: TestServer;
  beforeAll(async () => {
    // The engine closes the registry.
    s = serveApps(
      await engine.apps(),
      { archiveLimits: { maxUncompressedBytes: 20 * 1024 * 1024 } },
      async () => {},
    );
  });

  it("imports a built archive: records, files, runtime, and the executable the client queries for", async () => {
    const progress: ArchiveProgress[] = [];
    const [info] = await importRemix(s.apps, root, chunks(buildRemix("demo")), {
      onProgress: (p) => progress.push(p),
    });
    expect(info!.displayName).toBe("Demo App");
    expect(progress.at(-1)).toMatchObject({ phase: "import", done: true, entries: 7 });
    const { documents } = await s.apps.query(root, "demo", EXECUTABLE_QUERY);
    expect(documents).toHaveLength(1);
    const dataRef = documents[0]!.dataRef as { value: string };
    const raw = await s.request("root", "GET", `/demo/raw/${dataRef.value}`);
    expect(raw.status).toBe(200);
    expect((await raw.arrayBuffer()).byteLength).toBe(2008);
    const q = await s.request(
      "root",
      "GET",
      `/demo/query.json?query=${encodeURIComponent(EXECUTABLE_QUERY)}`,
    );
    expect(await q.json()).toEqual([
      { dataRef: { _rmx_type: "{tag}case:db.ref", _rmx_value: dataRef.value } },
    ]);
    expect(await (await s.request("root", "GET", "/demo/runtime.json")).json()).toMatchObject({
      appName: "Demo App",
    });
    expect(await (await s.request("root", "GET", "/demo/resources")).json()).toHaveProperty("logo.png");
    const png = await s.request("root", "GET", "/demo/files/deadbeef.png");
    expect(png.headers.get("content-type")).toBe("image/png");
    const r1 = (await (await s.apps.store(root, "demo", ["allowed_read"])).get("r1"))!;
    expect((r1.link as { tag: string }).tag).toBe("ref");
  });

  it("exports an app that imports back equal", async () => {
    await roundTrip(s.apps, buildRemix("loop"), (n) => `${n}-again`);
  });

  it("exports an app created here (no app record) so that it imports again", async () => {
    await s.apps.create(root, "native");
    await (await s.apps.store(root, "native", ["allowed_build"])).write(
      [{ op: "insert", doc: { _rmx_id: "n1", _rmx_type: "t", x: 1 } }],
      "root",
    );
    const archive = await collect(exportRemix(s.apps, root, { apps: { native: true } }));
    await s.apps.delete(root, "native");
    const [info] = await importRemix(s.apps, root, chunks(archive));
    expect(info!.name).toBe("native");
    expect(await (await s.apps.store(root, "native", ["allowed_read"])).get("n1")).toMatchObject({
      _rmx_type: "t",
      x: 1,
    });
  });

  it("imports and exports over HTTP", async () => {
    const res = await s.request("root", "POST", "/x/apps/import", buildRemix("viahttp"), {
      "content-type": "application/zip",
    });
    expect(res.status).toBe(201);
    const out = await s.request("root", "POST", "/x/apps/export", { apps: { viahttp: true } });
    expect(out.headers.get("content-type")).toBe("application/zip");
    const files = unzipSync(new Uint8Array(await out.arrayBuffer()));
    expect(Object.keys(files)).toContain("apps/viahttp/libraries/executable_cross.WASM");
  });

  const bad: [string, () => Uint8Array, string][] = [
    ["not a zip", () => strToU8("hello, this is not a zip file at all"), "not a zip archive"],
    ["truncated", () => buildRemix("trunc").subarray(0, 1500), "truncated"],
    ["path with ..", () => buildRemix("dots", { "apps/dots/../../evil": strToU8("x") }), "bad entry path"],
    ["absolute path", () => buildRemix("abs", { "/etc/passwd": strToU8("x") }), "bad entry path"],
    [
      "zip bomb",
      () => buildRemix("bomb", { "apps/bomb/public/zeros": new Uint8Array(30 * 1024 * 1024) }),
      "expands past",
    ],
    ["bad manifest", () => zipSync({ "manifest.json": strToU8("{nope") }), "not valid JSON"],
    [
      "bad app name",
      () =>
        zipSync({ "manifest.json": strToU8('{"apps":{"../x":true}}'), "apps/../x.mp": new Uint8Array(1) }),
      "",
    ],
    [
      "missing app record",
      () => zipSync({ "manifest.json": strToU8('{"apps":{"norec":true}}') }),
      "norec.mp is missing",
    ],
    [
      "bad msgpack",
      () =>
        zipSync({
          "manifest.json": strToU8('{"apps":{"badmp":true}}'),
          "apps/badmp.mp": new Uint8Array([0xc1]),
        }),
      "msgpack",
    ],
  ];
  for (const [name, archive, message] of bad) {
    it(`refuses a malformed archive (${name}) with 4xx and leaves no app`, async () => {
      const before = s.apps.list(root).map((a) => a.name);
      const res = await s.request("root", "POST", "/x/apps/import", archive(), {
        "content-type": "application/zip",
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.message).toContain(message);
      expect(s.apps.list(root).map((a) => a.name)).toEqual(before);
    });
  }

  it("refuses too many entries", async () => {
    const many: Record<string, Uint8Array> = {};
    for (let i = 0; i < 50; i++) many[`apps/many/public/f${i}`] = strToU8("x");
    await expect(
      importRemix(s.apps, root, chunks(buildRemix("many", many)), { limits: { maxEntries: 20 } }),
    ).rejects.toMatchObject({ code: "bad_archive" });
  });

  it("needs the right to create apps, and allowed_build to export", async () => {
    await expect(importRemix(s.apps, user("mallory"), chunks(buildRemix("x1")))).rejects.toMatchObject({
      code: "forbidden",
    });
    expect(() => exportRemix(s.apps, user("mallory"), { apps: { demo: true } })).toThrow(/no such app/);
  });

  const samples = remixArtifactsFor("the public sample apps")?.samples;
  describe.skipIf(!samples)("the public sample apps", () => {
    for (const file of ["tim-wasm.remix", "collection.remix"]) {
      it(`imports ${file}, finds its executable, exports and re-imports it equal`, async () => {
        const bytes = new Uint8Array(readFileSync(join(samples!, file)));
        const [info] = await roundTrip(s.apps, bytes, (n) => `${n}-copy`);
        const { documents } = await s.apps.query(root, info!.name, EXECUTABLE_QUERY);
        expect(documents).toHaveLength(1);
        const wasm = await (await s.apps.store(root, info!.name, ["allowed_run"])).blobs.read(
          (documents[0]!.dataRef as { value: string }).value,
        );
        expect([...wasm.subarray(0, 4)]).toEqual([0, 0x61, 0x73, 0x6d]);
      });
    }
  });
});
