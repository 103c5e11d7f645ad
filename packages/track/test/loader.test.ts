import { readFileSync } from "node:fs";
import { join } from "node:path";
import { importRemix } from "@amp/apps";
import type { MixValue } from "@amp/codec";
import { remixArtifactsFor } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appModules } from "../src/session/app-code.js";
import { buildRemix, root, type Stack, startStack, TrackClient } from "./helpers.js";

const SAMPLES = remixArtifactsFor("app modules of the real samples")?.samples;

const encode = (s: string) => new TextEncoder().encode(s);
const alice = { id: "alice", anonymous: false, root: false, claims: {} };
const modInfos = [
  { name: "home", type: "screen", isFlow: false, isDisabled: false, agents: [], libImports: ["greeter"] },
  { name: "Settings", type: "settings", isFlow: false, isDisabled: false, agents: [], libImports: [] },
  { name: "old", type: "screen", isFlow: true, isDisabled: true, agents: [], libImports: [] },
];

describe("libraries and app modules (native backend, real LMDB)", () => {
  let stack: Stack;

  /** Runs one FFI in a session (the native `call` entry); the session stays open for more. */
  async function callIn(
    session: Awaited<ReturnType<Stack["sessions"]["create"]>>["session"],
    ffi: string,
    args: MixValue[],
  ) {
    const r = await session.enter("load", ["call", [{ ffi, args }, {}]]);
    const cell = r.cells.find((c) => c.name === "call.result" || c.name === "call.error")!;
    return cell.name === "call.result" ? { ok: cell.value } : { error: cell.value as string };
  }

  beforeAll(async () => {
    stack = await startStack({
      remix: [
        buildRemix("libapp", encode("tim-native"), 300, {
          libraries: { "greeter.WASM": encode("lib-native") },
          record: { derivedData: { modInfos } },
        }),
        buildRemix("plain", encode("tim-native")),
      ],
    });
    await stack.apps.setRules(root, "libapp", { allowed_run: ["alice"] });
    await stack.apps.setRules(root, "plain", { allowed_run: ["alice"] });
  });
  afterAll(() => stack?.close());

  it("$loader_resolveLibrary finds a library stored in the app, null otherwise", async () => {
    const { session } = await stack.sessions.create({ user: alice, token: "t", app: "libapp" });
    try {
      const found = await callIn(session, "$loader_resolveLibrary", ["greeter"]);
      expect(found.ok).toMatchObject({ name: "greeter", variant: "WASM", size: 10 });
      expect((found.ok as { dataRef: { tag: string } }).dataRef.tag).toBe("ref");
      expect((await callIn(session, "$loader_resolveLibrary", ["greeter", "BYTECODE"])).ok).toBeNull();
      expect((await callIn(session, "$loader_resolveLibrary", ["nope"])).ok).toBeNull();
      expect((await callIn(session, "$loader_resolveLibrary", ["../x"])).error).toMatch(/bad library name/);
    } finally {
      await stack.sessions.destroy(session.id);
    }
  });

  it("$loader_loadLibrary loads a stored library into the running VM: its entries become callable", async () => {
    const { session } = await stack.sessions.create({ user: alice, token: "t", app: "libapp" });
    try {
      expect((await callIn(session, "$loader_loadLibrary", ["nope"])).error).toMatch(
        /\$loader_loadLibrary: no library nope in the app/,
      );
      // Not loaded yet: the library's entry does not exist in the session's VM.
      await expect(session.enter("greet", [])).rejects.toMatchObject({ code: "no_such_entry" });
      // Sent (fresh code ID) and linked while the FFI is pending, then answered with null.
      expect(await callIn(session, "$loader_loadLibrary", ["greeter"])).toEqual({ ok: null });
      expect([...session.libraries.keys()]).toEqual(["greeter.WASM"]);
      expect(session.nextCodeID).toBe(2);
      const greet = await session.enter("greet", []);
      expect(greet.cells).toEqual([{ name: "lib.greeting", version: "1", value: "hello from the library" }]);
      // A second load is answered at once: no new code ID, nothing sent again.
      expect(await callIn(session, "$loader_loadLibrary", ["greeter"])).toEqual({ ok: null });
      expect(session.nextCodeID).toBe(2);
      // The app goes on.
      const home = await session.enter("load", ["home", [{}, {}]]);
      expect(home.cells.map((c) => c.name)).toContain("home.view");
    } finally {
      await stack.sessions.destroy(session.id);
    }
  });

  it("msg_introspect_entries lists the app's modules from its record's derivedData.modInfos", async () => {
    const client = await TrackClient.open(stack.url, "libapp", await stack.token("alice"));
    try {
      const { response: created } = await client.request({ _rmx_type: "msg_session_create" });
      const { response } = await client.request({
        _rmx_type: "msg_introspect_entries",
        session: created.session,
      });
      expect(response.errors).toBeUndefined();
      const result = response.result as { entries: string[]; modules: Array<Record<string, unknown>> };
      expect(result.entries).toContain("load");
      expect(result.modules).toEqual([
        {
          name: "home",
          type: "screen",
          isFlow: false,
          isDisabled: false,
          agents: [],
          libImports: ["greeter"],
        },
        { name: "Settings", type: "settings", isFlow: false, isDisabled: false, agents: [], libImports: [] },
        { name: "old", type: "screen", isFlow: true, isDisabled: true, agents: [], libImports: [] },
      ]);
    } finally {
      client.close();
    }
    const plain = await TrackClient.open(stack.url, "plain", await stack.token("alice"));
    try {
      const { response: created } = await plain.request({ _rmx_type: "msg_session_create" });
      const { response } = await plain.request({
        _rmx_type: "msg_introspect_entries",
        session: created.session,
      });
      expect(response.result).toEqual({ entries: expect.arrayContaining(["load", "invoke3"]) });
    } finally {
      plain.close();
    }
  });

  it.skipIf(!SAMPLES)("the real samples' app records list their modules", async () => {
    const bytes = readFileSync(join(SAMPLES!, "tim-wasm.remix"));
    await importRemix(
      stack.apps,
      root,
      (async function* () {
        yield new Uint8Array(bytes);
      })(),
    );
    const modules = await appModules(stack.apps, root, "tim-wasm");
    expect(modules?.find((m) => m.name === "home")).toMatchObject({ type: "screen", isDisabled: false });
    expect(modules?.map((m) => m.type)).toEqual(expect.arrayContaining(["settings", "styles"]));
  });
});
