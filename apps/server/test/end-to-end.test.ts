import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type LoopbackServer,
  remixArtifactsFor,
  sessionCreate,
  startLoopbackServer,
  TrackClient,
  viewInvoke,
  viewLoad,
} from "@amp/test-support";
import { findViewNodes, viewTexts } from "@amp/track";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBin, ServerProcess } from "./helpers/server-process.js";

const artifacts = remixArtifactsFor("end-to-end with the real Groovebox");
const wasm = artifacts?.groovebox;
const samples = artifacts?.samples;

describe.skipIf(!wasm || !samples)("end to end: the public sample apps through a real amp process", () => {
  let server: ServerProcess;
  const retired: ServerProcess[] = [];
  let data: LoopbackServer;
  let rootToken: string;
  let aliceToken: string;
  let payload = JSON.stringify({ title: "T", items: [{ name: "a" }, { name: "b" }] });

  const token = async (user: string) => {
    const result = await runBin(["token", "--user", user, "--database-dir", server.dataDir]);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout.trim().split("\n").at(-1)!;
  };
  const trackUrl = (app: string, t: string) =>
    `${server.url(`/${app}/track.ws`).replace("http", "ws")}?token=${encodeURIComponent(t)}`;

  // A stable public URL, as a deployed server has: the tokens' issuer, so they outlive a restart
  // (each process here binds a new ephemeral port).
  const env = { RMX_ROOT_USER: "root", RMX_BASE_URL: "http://amp.test" };

  beforeAll(async () => {
    data = await startLoopbackServer((_req, res) =>
      res.setHeader("content-type", "application/json").end(payload),
    );
    server = await new ServerProcess(["--groovebox", wasm!, "--http-allow-private", "127.0.0.1"], env).ready(
      30_000,
    );
    rootToken = await token("root");
    aliceToken = await token("alice");
    for (const file of ["tim-wasm.remix", "collection.remix"]) {
      const res = await fetch(server.url("/x/apps/import"), {
        method: "POST",
        headers: { authorization: `Bearer ${rootToken}`, "content-type": "application/zip" },
        body: readFileSync(join(samples!, file)),
      });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
    }
  }, 90_000);

  afterAll(async () => {
    await server?.dispose();
    for (const earlier of retired) await earlier.dispose();
    await data?.close();
  });

  it("tim-wasm: load home shows 'Hello there!', and the tap opens remixlabs.com", async () => {
    const client = await TrackClient.connect(trackUrl("tim-wasm", rootToken));
    try {
      const created = await client.request(sessionCreate());
      expect(created.response.errors).toBeUndefined();
      const session = created.response.session;
      const load = await client.request(viewLoad(session, "home"));
      expect(load.response.errors).toBeUndefined();
      const view = load.cells.filter((c) => c.name === "home.view").at(-1)?.value;
      expect(viewTexts(view)).toEqual(expect.arrayContaining(["Hello there!", "Click me"]));

      const [button] = findViewNodes(view, (node) => node._rmx_type === "dom_button");
      const ontap = (button!.events as { ontap: { name: string; env: unknown }[] }).ontap[0]!;
      const tap = await client.request(viewInvoke(session, ontap));
      expect(tap.response.errors).toBeUndefined();
      const next = tap.cells.find((c) => c.name === "$nextActions")?.value;
      expect(next).toEqual([
        expect.objectContaining({ _rmx_type: "msg_open_link", url: "https://www.remixlabs.com" }),
      ]);
    } finally {
      client.close();
    }
  });

  it("my_records_public renders what data_url serves on a loopback host the config allows", async () => {
    const dataUrl = data.url("/records.json");
    const client = await TrackClient.connect(trackUrl("my_records_public", rootToken));
    try {
      const { response } = await client.request(sessionCreate());
      const load = await client.request(viewLoad(response.session, "collection", { data_url: dataUrl }));
      expect(load.response.errors).toBeUndefined();
      const shown = load.cells.flatMap((c) => viewTexts(c.value));
      // The app renders the title as a markdown heading, then one line per item.
      expect(shown).toEqual(expect.arrayContaining(["# T", "a", "b"]));
    } finally {
      client.close();
      payload = JSON.stringify({ title: "T", items: [{ name: "a" }, { name: "b" }] });
    }
  });

  it("refuses a user without the run role", async () => {
    await expect(TrackClient.connect(trackUrl("tim-wasm", aliceToken))).rejects.toThrow(
      /upgrade refused: 40[34]/,
    );
    const res = await fetch(server.url("/tim-wasm/track/msg_session_create"), {
      method: "POST",
      headers: { authorization: `Bearer ${aliceToken}`, "content-type": "application/json" },
      body: JSON.stringify({
        _rmx_type: "msg_session_create",
        _rmx_version: "0.0",
        searchExe: true,
        clientVars: {},
      }),
    });
    const body = (await res.json()) as { errors?: { code?: string }; error?: { code: string } };
    expect(body.errors ?? body.error).toBeDefined();
  });

  it("a restart loses the sessions but no data", async () => {
    const before = await TrackClient.connect(trackUrl("tim-wasm", rootToken));
    const { response } = await before.request(sessionCreate());
    before.close();
    const query = () =>
      fetch(
        server.url(
          `/tim-wasm/query.json?query=${encodeURIComponent('_rmx_type == "executable_cross" && variant == "WASM" | { dataRef }')}`,
        ),
        {
          headers: { authorization: `Bearer ${rootToken}` },
        },
      ).then((r) => r.json());
    const stored = await query();

    server.signal("SIGTERM");
    expect(await server.exited).toEqual({ code: 0, signal: null });
    const first = server;
    retired.push(first); // it owns the database folder: removed after its successor stops
    server = await new ServerProcess(
      ["--groovebox", wasm!, "--http-allow-private", "127.0.0.1"],
      env,
      first.dataDir,
    ).ready(30_000);

    expect(await query()).toEqual(stored);
    const after = await TrackClient.connect(trackUrl("tim-wasm", rootToken));
    try {
      const lost = await after.request({
        _rmx_type: "msg_view_load",
        session: response.session,
        module: "home",
        args: [{}, { type: "start" }],
      });
      expect(lost.response.errors?.message).toMatch(/no such session/);
    } finally {
      after.close();
    }
  });

  it("serves the OpenAPI description of every mounted package", async () => {
    const doc = (await (await fetch(server.url("/x/openapi.json"))).json()) as {
      paths: Record<string, unknown>;
    };
    for (const path of [
      "/x/apps/import",
      "/x/token",
      "/x/jwks.json",
      "/{app}/query.json",
      "/{app}/track/{msgType}",
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
  });
});
