import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MixCase, MixToken, toTaggedJson } from "@amp/codec";
import { GrooveboxPool } from "@amp/machine";
import { remixArtifactsFor, sessionCreate, viewLoad } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientJson, OPAQUE_TOKEN, viewTexts } from "../src/index.js";
import { type Stack, startStack, TrackClient } from "./helpers.js";

describe("clientJson: token values as the reference host shows them", () => {
  it("turns every token into the opaque marker, anywhere in a value, and leaves the rest as tagged JSON", () => {
    const token = new MixToken(9, new TextEncoder().encode("bearer.jwt.here"), { scope: "x" });
    const value = {
      env: { token, user: "alice" },
      list: [token, 1, new MixCase("some", token)],
      bin: Uint8Array.of(1),
    };
    const json = clientJson(value);
    expect(json).toEqual({
      env: { token: OPAQUE_TOKEN, user: "alice" },
      list: [OPAQUE_TOKEN, 1, { _rmx_type: "{tag}case:some", _rmx_value: OPAQUE_TOKEN }],
      bin: { _rmx_type: "{tag}bin", _rmx_value: "AQ==" },
    });
    expect(JSON.stringify(json)).not.toContain("YmVhcmVy"); // base64 of "bearer"
    const plain = { a: [1, { b: "c" }] };
    expect(clientJson(plain)).toEqual(toTaggedJson(plain));
    expect(OPAQUE_TOKEN).toBe("<opaque token>");
  });
});

const artifacts = remixArtifactsFor("track opaque token (Groovebox)");

describe.skipIf(!artifacts)("tim-wasm home on the real Groovebox: no bearer token in a cell", () => {
  let stack: Stack;
  let pool: GrooveboxPool;

  beforeAll(async () => {
    pool = await GrooveboxPool.open({ groovebox: artifacts!.groovebox, workers: 1 });
    const remix = new Uint8Array(readFileSync(join(artifacts!.samples, "tim-wasm.remix")));
    stack = await startStack({ pool, remix: [remix] });
    await stack.apps.setRules({ id: "root", anonymous: false, root: true }, "tim-wasm", {
      allowed_run: ["alice"],
    });
  });
  afterAll(async () => {
    await stack?.close();
    await pool?.close();
  });

  it("the env the home screen prints shows the token as <opaque token>, over the WebSocket and HTTP", async () => {
    const bearer = await stack.token("alice");
    const client = await TrackClient.open(stack.url, "tim-wasm", bearer);
    try {
      const created = await client.request(sessionCreate({ searchVariant: "WASM" }));
      expect(created.response.errors).toBeUndefined();
      const session = created.response.session;
      const load = await client.request(viewLoad(session, "home"));
      expect(load.response.errors).toBeUndefined();
      const text = JSON.stringify(client.received);
      const cells = client.received.flatMap((m) => m.cellMessages);
      const view = cells.filter((c) => c.name === "home.view").at(-1)!.value;
      expect(viewTexts(view)).toEqual(expect.arrayContaining(["Hello there!"]));

      // The bearer JWT, any of its three parts, or its bytes in base64 never reach the client.
      expect(text).not.toContain(bearer);
      for (const part of bearer.split(".")) expect(text).not.toContain(part);
      expect(text).not.toContain(Buffer.from(bearer).toString("base64").slice(0, 40));
      expect(text).not.toContain('"{tag}token"');
      // The token shows as the reference host's marker.
      expect(text).toContain(OPAQUE_TOKEN);

      // Over HTTP too (every transport uses the same cell conversion).
      const res = await fetch(`${stack.url}/tim-wasm/track/msg_view_refresh`, {
        method: "POST",
        headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
        body: JSON.stringify({ _rmx_type: "msg_view_refresh", session }),
      });
      const body = await res.text();
      expect(res.status).toBe(200);
      expect(body).not.toContain(bearer.split(".")[1]!);
    } finally {
      client.close();
    }
  });
});
