import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GrooveboxPool } from "@amp/machine";
import {
  type LoopbackServer,
  remixArtifactsFor,
  sessionCreate,
  startLoopbackServer,
  viewInvoke,
  viewLoad,
} from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { viewTexts } from "../src/index.js";
import { buildRemix, firstTap, type Stack, startStack, TrackClient } from "./helpers.js";

const artifacts = remixArtifactsFor("track acceptance (Groovebox)");
const GROOVEBOX = artifacts?.groovebox;
const SAMPLES = artifacts?.samples;
const haveArtifacts = artifacts !== undefined;

/**
 * The end-to-end acceptance: a client opens /{app}/track.ws with a token, creates a session,
 * loads the start screen and taps its button; a data app renders what a loopback server serves;
 * a user without the run role is refused. Runs on the native backend (CI) and on the real
 * Groovebox with the public sample apps.
 */
function acceptance(
  label: string,
  setup: () => Promise<{ stack: Stack; tim: string; records: string; close?: () => Promise<void> }>,
) {
  describe(label, () => {
    let stack: Stack;
    let tim: string;
    let records: string;
    let dataServer: LoopbackServer;
    let dataUrl = "";
    let body = "";
    let close: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ stack, tim, records, close } = await setup());
      for (const app of [tim, records]) {
        await stack.apps.setRules({ id: "root", anonymous: false, root: true }, app, {
          allowed_run: ["alice"],
          allowed_read: ["bob"],
        });
      }
      dataServer = await startLoopbackServer((_req, res) => {
        res.setHeader("content-type", "application/json");
        res.end(body);
      });
      dataUrl = dataServer.url("/data.json");
    });

    afterAll(async () => {
      await stack?.close();
      await close?.();
      await dataServer?.close();
    });

    it(`${label}: create, load home ("Hello there!"), tap → msg_open_link`, async () => {
      const client = await TrackClient.open(stack.url, tim, await stack.token("alice"));
      try {
        const created = await client.request(sessionCreate({ searchVariant: "WASM" }));
        expect(created.response.errors).toBeUndefined();
        expect(created.response).toMatchObject({
          _rmx_type: "msg_response",
          _rmx_version: "0.0",
          org: "testorg",
          workspace: "testws",
          responseTo: "msg_session_create",
        });
        const session = created.response.session;
        expect(session).toMatch(/^[0-9a-f-]{36}$/);

        const load = await client.request(viewLoad(session, "home"));
        expect(load.response.errors).toBeUndefined();
        // Cells were pushed as the VM produced them, each in its own msg_response, before the answer.
        const cells = load.pushed.flatMap((m) => m.cellMessages);
        expect(cells.map((c) => c.name)).toEqual(
          expect.arrayContaining(["$location", "home.view", "$nextActions"]),
        );
        const view = cells.filter((c) => c.name === "home.view").at(-1)!.value;
        expect(viewTexts(view)).toEqual(expect.arrayContaining(["Hello there!", "Click me"]));

        const ontap = firstTap(view);
        const tap = await client.request(viewInvoke(session, ontap));
        expect(tap.response.errors).toBeUndefined();
        const next = tap.pushed.flatMap((m) => m.cellMessages).find((c) => c.name === "$nextActions");
        expect(next?.value).toEqual([
          { _rmx_type: "msg_open_link", url: "https://www.remixlabs.com", target: "_blank" },
        ]);
      } finally {
        client.close();
      }
    });

    it(`${label}: my_records_public renders what data_url serves (loopback allowed by config)`, async () => {
      body = JSON.stringify({ title: "T", items: [{ name: "a" }, { name: "b" }] });
      const client = await TrackClient.open(stack.url, records, await stack.token("alice"));
      try {
        const { response } = await client.request({ _rmx_type: "msg_session_create", searchExe: true });
        const load = await client.request(viewLoad(response.session, "collection", { data_url: dataUrl }));
        expect(load.response.errors).toBeUndefined();
        const view = load.pushed
          .flatMap((m) => m.cellMessages)
          .filter((c) => c.name === "collection.view")
          .at(-1)!.value;
        const shown = viewTexts(view);
        expect(shown.some((t) => t.includes("T"))).toBe(true);
        expect(shown).toEqual(expect.arrayContaining(["a", "b"]));

        // Served an array, the app panics: an error response, and the session stays usable.
        body = "[]";
        const bad = await client.request(viewLoad(response.session, "collection", { data_url: dataUrl }));
        expect(bad.response.errors?.code).toBe("Track-panic");
        expect(bad.response.errors?.message).toContain("ERR_EXPECTED_MAP");
        body = JSON.stringify({ title: "T2", items: [{ name: "c" }] });
        const again = await client.request(viewLoad(response.session, "collection", { data_url: dataUrl }));
        expect(again.response.errors).toBeUndefined();
        const view2 = again.pushed
          .flatMap((m) => m.cellMessages)
          .filter((c) => c.name === "collection.view")
          .at(-1)?.value;
        expect(viewTexts(view2)).toContain("c");
      } finally {
        client.close();
      }
    });

    it(`${label}: a user without the run role is refused`, async () => {
      // bob may read the app but not run it: no socket, and no session over HTTP either.
      await expect(TrackClient.open(stack.url, tim, await stack.token("bob"))).rejects.toThrow(/404/);
      const res = await fetch(`${stack.url}/${tim}/track/msg_session_create`, {
        method: "POST",
        headers: { authorization: `Bearer ${await stack.token("bob")}`, "content-type": "application/json" },
        body: JSON.stringify({ searchExe: true }),
      });
      const answer = (await res.json()) as { errors?: { code: string } };
      expect(answer.errors?.code).toBe("Track-forbidden");
      const anon = await fetch(`${stack.url}/${tim}/track/msg_session_create`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(((await anon.json()) as { errors?: { code: string } }).errors?.code).toBe("Track-noApp");
      expect(stack.sessions.list().filter((s) => s.user !== "alice")).toEqual([]);
    });
  });
}

acceptance("native backend", async () => {
  const exe = new TextEncoder().encode("tim-native");
  const stack = await startStack({
    remix: [buildRemix("tim-native", exe), buildRemix("records-native", exe)],
  });
  return { stack, tim: "tim-native", records: "records-native" };
});

describe.skipIf(!haveArtifacts)("Groovebox", () => {
  acceptance("real Groovebox with the public samples", async () => {
    const pool = await GrooveboxPool.open({ groovebox: GROOVEBOX!, workers: 2 });
    const remix = ["tim-wasm.remix", "collection.remix"].map(
      (f) => new Uint8Array(readFileSync(join(SAMPLES!, f))),
    );
    const stack = await startStack({ pool, remix });
    return { stack, tim: "tim-wasm", records: "my_records_public", close: () => pool.close() };
  });
});
