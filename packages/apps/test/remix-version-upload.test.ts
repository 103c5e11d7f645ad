import { buildRemix } from "@amp/test-support";
import { strToU8, unzipSync, zipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AppsError,
  exportRemix,
  importRemix,
  REMIX_FORMAT_VERSION,
  UnsupportedRemixVersionError,
} from "../src/index.js";
import { root } from "./helpers.js";
import { startTestServer, type TestServer } from "./http-helpers.js";

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** The archive with its manifest.json replaced. */
function withManifest(archive: Uint8Array, change: (m: Record<string, unknown>) => Record<string, unknown>) {
  const files = unzipSync(archive);
  files["manifest.json"] = strToU8(
    JSON.stringify(change(JSON.parse(Buffer.from(files["manifest.json"]!).toString()))),
  );
  return zipSync(files);
}

/** A multipart/form-data body as a browser builds it (FormData through the Fetch API). */
async function formBody(
  parts: Record<string, Uint8Array | string>,
): Promise<{ body: Uint8Array; type: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(parts)) {
    if (typeof value === "string") form.append(name, value);
    else form.append(name, new Blob([value], { type: "application/octet-stream" }), `${name}.remix`);
  }
  const req = new Request("http://x/", { method: "POST", body: form });
  return { body: new Uint8Array(await req.arrayBuffer()), type: req.headers.get("content-type")! };
}

describe(".remix format version", () => {
  let s: TestServer;
  beforeAll(() => {
    s = startTestServer();
  });
  afterAll(() => s.close());

  it(`exports write "version": "${REMIX_FORMAT_VERSION}" and import it back`, async () => {
    await importRemix(s.apps, root, once(buildRemix("v_old")));
    const exported = new Uint8Array(
      await new Response(exportRemix(s.apps, root, { apps: { v_old: true } })).arrayBuffer(),
    );
    const manifest = JSON.parse(Buffer.from(unzipSync(exported)["manifest.json"]!).toString());
    expect(manifest).toMatchObject({ version: "2.1", apps: { v_old: true }, setup: "_rmx_home" });
    await s.apps.delete(root, "v_old");
    const [info] = await importRemix(s.apps, root, once(exported));
    expect(info!.name).toBe("v_old");
  });

  it("reads manifests without a version (older archives) and with 1.x, 2.0 and 2.1", async () => {
    for (const [i, version] of [undefined, "1.0", "2.0", "2.1"].entries()) {
      const name = `v_ok${i}`;
      const archive = withManifest(buildRemix(name), (m) => (version ? { ...m, version } : m));
      expect((await importRemix(s.apps, root, once(archive)))[0]!.name).toBe(name);
    }
  });

  it('refuses version "9.0" with UnsupportedRemixVersionError and imports nothing', async () => {
    const archive = withManifest(buildRemix("v_new"), (m) => ({ ...m, version: "9.0" }));
    const error = await importRemix(s.apps, root, once(archive)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedRemixVersionError);
    expect(error).toBeInstanceOf(AppsError);
    expect(error).toMatchObject({ code: "unsupported_version", status: 400, version: "9.0" });
    expect(s.apps.list(root).map((a) => a.name)).not.toContain("v_new");
    const res = await s.request("root", "POST", "/x/apps/import", archive, {
      "content-type": "application/zip",
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "unsupported_version" } });
    expect(s.apps.list(root).map((a) => a.name)).not.toContain("v_new");
  });

  it.each([[2.1], ["two"], ["2"], ["2.1.0"]])(
    "refuses a malformed version %j as bad_archive",
    async (version) => {
      const archive = withManifest(buildRemix("v_bad"), (m) => ({ ...m, version }));
      await expect(importRemix(s.apps, root, once(archive))).rejects.toMatchObject({ code: "bad_archive" });
    },
  );
});

describe("POST /x/apps/import with multipart/form-data", () => {
  let s: TestServer;
  beforeAll(() => {
    s = startTestServer({ limits: { maxArchiveBytes: 64 * 1024 } });
  });
  afterAll(() => s.close());
  const upload = (body: Uint8Array | string, type: string) =>
    s.request("root", "POST", "/x/apps/import", body, { "content-type": type });

  it("imports the form's one file field, other fields ignored", async () => {
    const { body, type } = await formBody({ note: "from the console", file: buildRemix("form_app") });
    const res = await upload(body, type);
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject([{ name: "form_app", displayName: "Demo App" }]);
    expect(await (await s.apps.store(root, "form_app", ["allowed_read"])).get("r1")).toMatchObject({
      name: "one",
    });
  });

  it("streams: the file arrives in 3-byte chunks (boundaries split everywhere) and comes out whole", async () => {
    const { body, type } = await formBody({ file: buildRemix("form_split") });
    const { multipartFile, multipartBoundary } = await import("../src/http/multipart.js");
    async function* bytewise() {
      for (let i = 0; i < body.length; i += 3) yield body.subarray(i, i + 3);
    }
    const parts: Uint8Array[] = [];
    for await (const p of multipartFile(bytewise(), multipartBoundary(type)!)) parts.push(p);
    const file = Buffer.concat(parts);
    expect(file.equals(Buffer.from(buildRemix("form_split")))).toBe(true);
  });

  it("a form without a file is 400 bad_request, and nothing is imported", async () => {
    const { body, type } = await formBody({ note: "no file here" });
    const res = await upload(body, type);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: "bad_request", message: expect.stringMatching(/no file/) },
    });
  });

  it("two files, a missing boundary, a cut body and a non-zip file are refused", async () => {
    const two = await formBody({ a: buildRemix("two_a"), b: buildRemix("two_b") });
    expect(await (await upload(two.body, two.type)).json()).toMatchObject({ error: { code: "bad_request" } });
    expect((await upload("x", "multipart/form-data")).status).toBe(400);
    const ok = await formBody({ file: buildRemix("cut") });
    const cut = await upload(ok.body.subarray(0, ok.body.length - 20), ok.type);
    expect(cut.status).toBe(400);
    const junk = await formBody({ file: strToU8("not a zip") });
    expect(await (await upload(junk.body, junk.type)).json()).toMatchObject({
      error: { code: "bad_archive" },
    });
    expect(
      s.apps
        .list(root)
        .map((a) => a.name)
        .filter((n) => /two_|cut/.test(n)),
    ).toEqual([]);
  });

  it("a huge multipart is 413 too_large, like a huge zip body", async () => {
    const { body, type } = await formBody({ file: new Uint8Array(200 * 1024).fill(1) });
    const res = await upload(body, type);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "too_large" } });
    // Without a declared length too (a chunked upload): the stream is cut at the limit.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < body.length; i += 8192) controller.enqueue(body.subarray(i, i + 8192));
        controller.close();
      },
    });
    const chunked = await s.http.request("/x/apps/import", {
      method: "POST",
      headers: { "content-type": type, "x-test-user": "root" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(413);
  });
});
