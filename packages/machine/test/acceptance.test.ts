import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { isMixMap, type MixValue } from "@amp/codec";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FfiRegistry, GrooveboxPool, standardHooks } from "../src/index.js";
import { appCode, GROOVEBOX_WASM, haveArtifacts, skipReason, testEnv } from "./artifacts.js";
import { findAll, texts } from "./find.js";

skipReason("acceptance");

describe.skipIf(!haveArtifacts)("real Remix apps on the Groovebox", () => {
  let pool: GrooveboxPool;
  let server: Server;
  let body = "";
  let baseUrl = "";
  const called = new Set<string>();
  const ffi = new FfiRegistry().registerAll(standardHooks());
  // $http_do answered from the loopback server, as track's outbound HTTP will.
  ffi.register("$http_do", async (args) => {
    const req = args[0];
    if (!isMixMap(req) || typeof req.url !== "string") throw new Error("$http_do: bad request");
    const res = await fetch(req.url, { method: typeof req.method === "string" ? req.method : "GET" });
    const headers: Record<string, MixValue> = {};
    res.headers.forEach((v, k) => {
      headers[k] = v;
    });
    return { status: res.status, headers, requested_url: req.url, body: await res.text() };
  });

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    pool = await GrooveboxPool.open({ groovebox: GROOVEBOX_WASM!, workers: 2 });
  });

  afterAll(async () => {
    console.log("FFIs called by the sample apps:", [...called].sort().join(", "));
    await pool?.close();
    await new Promise((r) => server?.close(r));
  });

  async function machine(remix: string) {
    const m = await pool.createMachine({ ffi, code: [{ codeID: 0, bytes: appCode(remix) }] });
    m.on("ffiCall", (call) => called.add(call.name));
    return m;
  }

  it("tim-wasm: load home renders the view; tapping the button opens the link", async () => {
    const m = await machine("tim-wasm.remix");
    const init = await m.init({ ...testEnv, app: "tim-wasm", session: "s-tim" });
    for (const n of init.ffiCalls) called.add(n);
    expect(m.state).toBe("Idle");
    const load = await m.enter("load", "", 0, ["home", [{}, { type: "start" }]]);
    for (const n of load.ffiCalls) called.add(n);
    expect(m.state).toBe("Idle");
    const names = load.cells.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(["$location", "home.view", "$nextActions"]));
    expect(load.panics).toEqual([]);
    const view = load.cells.filter((c) => c.name === "home.view").at(-1)!.value;
    expect(texts(view)).toEqual(expect.arrayContaining(["Hello there!", "Click me"]));

    // The button's ontap carries the invoke message the client would send.
    const [button] = findAll(view, (v) => isMixMap(v) && v._rmx_type === "dom_button");
    const ontap = (button as { events: { ontap: Array<{ name: string; env: string }> } }).events.ontap[0]!;
    const tap = await m.enter("invoke3", "", 0, [ontap.name, ontap.env, null, [], {}]);
    for (const n of tap.ffiCalls) called.add(n);
    const next = tap.cells.find((c) => c.name === "$nextActions");
    expect(next?.value).toEqual([
      { _rmx_type: "msg_open_link", url: "https://www.remixlabs.com", target: "_blank" },
    ]);
    expect(m.state).toBe("Idle");
    await m.destroy();
  });

  it("my_records_public: load collection renders data fetched through $http_do", async () => {
    body = JSON.stringify({ title: "T", items: [{ name: "a" }, { name: "b" }] });
    const m = await machine("collection.remix");
    const init = await m.init({ ...testEnv, app: "my_records_public" });
    for (const n of init.ffiCalls) called.add(n);
    const load = await m.enter("load", "", 0, [
      "collection",
      [{ data_url: `${baseUrl}/data.json` }, { type: "start" }],
    ]);
    for (const n of load.ffiCalls) called.add(n);
    expect(load.ffiCalls).toContain("$http_do");
    const view = load.cells.filter((c) => c.name === "collection.view").at(-1)!.value;
    const shown = texts(view);
    expect(shown.some((t) => t.includes("T"))).toBe(true);
    expect(shown).toEqual(expect.arrayContaining(["a", "b"]));
    expect(load.panics).toEqual([]);
    expect(load.errors).toEqual([]);

    // Served an array where a map is expected, the app panics; the VM stays usable.
    body = "[]";
    const bad = await m.enter("load", "", 0, [
      "collection",
      [{ data_url: `${baseUrl}/data.json` }, { type: "start" }],
    ]);
    for (const n of bad.ffiCalls) called.add(n);
    const panic = bad.panics.find((p) => p.message.includes("ERR_EXPECTED_MAP"));
    expect(panic).toBeDefined();
    expect(panic!.backtrace).toMatch(/\/\d+\/\d+/);
    expect(m.state).toBe("Idle");
    expect(bad.panics.some((p) => p.message.includes("unknown FFI"))).toBe(false);
    body = JSON.stringify({ title: "T2", items: [{ name: "c" }] });
    const again = await m.enter("load", "", 0, [
      "collection",
      [{ data_url: `${baseUrl}/data.json` }, { type: "start" }],
    ]);
    expect(texts(again.cells.filter((c) => c.name === "collection.view").at(-1)!.value)).toContain("c");
    await m.destroy();
  });
});
