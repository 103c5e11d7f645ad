import { Broker } from "@amp/broker";
import { fromTaggedJson } from "@amp/codec";
import { CompilerClient, type CompilerService, DisabledCompiler, serveCompiler } from "@amp/compiler";
// The shared toy compiler (WebAssembly text → Wasm with wabt), served by the real harness.
import { WAT_SYNTAX_ERROR as BAD, WAT_ANSWER as GOOD, watCompiler } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRemix, logger, root, type Stack, startStack, TrackClient } from "./helpers.js";

/** The slice of the WebAssembly global this test uses (the ES2023 lib leaves it out). */
declare const WebAssembly: {
  instantiate(bytes: Uint8Array): Promise<{ instance: { exports: Record<string, () => number> } }>;
};

describe("msg_compile_* through @amp/compiler on a real broker", () => {
  let broker: Broker;
  let service: CompilerService;
  let compiler: CompilerClient;
  let stack: Stack;
  let client: TrackClient;

  beforeAll(async () => {
    broker = new Broker({
      logger,
      port: null,
      verifier: { verify: () => Promise.reject(new Error("no MQTT clients in this test")) },
      appRoles: { can: () => false },
    });
    await broker.start();
    service = await serveCompiler(await watCompiler(), broker, { heartbeatMs: 1000 });
    compiler = await CompilerClient.start({ bus: broker, timeoutMs: 5000 });
    stack = await startStack({
      remix: [buildRemix("calc", new TextEncoder().encode("tim-native"))],
      compiler,
    });
    await stack.apps.setRules(root, "calc", { allowed_run: ["alice", "carol"], allowed_build: ["alice"] });
    for (let i = 0; i < 100 && compiler.instances.length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    client = await TrackClient.open(stack.url, "calc", await stack.token("alice"));
  });
  afterAll(async () => {
    client?.close();
    await stack?.close();
    await compiler?.close();
    await service?.close().catch(() => {});
    await broker?.close();
  });

  it("msg_compile_build answers {code, details} and the artifacts, whose bytes run", async () => {
    const { response } = await client.request({
      _rmx_type: "msg_compile_build",
      module: "main",
      sources: [{ name: "main.wat", text: GOOD }],
    });
    expect(response.errors).toBeUndefined();
    expect(response.responseTo).toBe("msg_compile_build");
    const result = response.result as {
      code: number;
      details: string;
      artifacts: Array<{ name: string; sha256: string; size: number; data: unknown }>;
    };
    expect(result).toMatchObject({ code: 0, details: "built 1 module(s)" });
    expect(result.artifacts).toHaveLength(1);
    const [artifact] = result.artifacts;
    expect(artifact!.name).toBe("main.wasm");
    expect(artifact!.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Bytes travel as tagged-JSON binary; they are the compiled module.
    const bytes = fromTaggedJson(artifact!.data as never) as Uint8Array;
    expect(bytes.byteLength).toBe(artifact!.size);
    const { instance } = await WebAssembly.instantiate(bytes);
    expect(instance.exports.answer!()).toBe(42);
  });

  it("a compile error comes back with its location and module, in errors and in result.errors", async () => {
    const { response } = await client.request({
      _rmx_type: "msg_compile_modules",
      modules: [
        { name: "ok.wat", text: GOOD },
        { name: "broken.wat", text: BAD },
      ],
    });
    expect(response.errors).toMatchObject({
      code: "Compile-syntax",
      loc_file: "broken.wat",
      loc_start_line: 4,
      loc_start_col: 5,
      name_module: "broken",
      count: 1,
    });
    expect(response.errors?.message).toMatch(/bogus/);
    const result = response.result as { code: number; details: string; errors: unknown[] };
    expect(result.code).toBe(1);
    expect(result.details).toBe("1 error(s)");
    expect(result.errors).toEqual([
      expect.objectContaining({ loc_file: "broken.wat", name_module: "broken" }),
    ]);
  });

  it("phrases become sources; a bad request is a typed error; compiling needs allowed_build", async () => {
    const phrases = await client.request({ _rmx_type: "msg_compile_phrases", phrases: [GOOD] });
    expect(phrases.response.errors).toBeUndefined();
    expect((phrases.response.result as { artifacts: Array<{ name: string }> }).artifacts[0]!.name).toBe(
      "phrase-1.wasm",
    );
    const empty = await client.request({ _rmx_type: "msg_compile_build", sources: [] });
    expect(empty.response.errors).toMatchObject({ code: "Track-badMessage" });
    expect(empty.response.errors?.message).toMatch(/^msg_compile_build: sources/);

    const carol = await TrackClient.open(stack.url, "calc", await stack.token("carol"));
    try {
      const refused = await carol.request({
        _rmx_type: "msg_compile_build",
        sources: [{ name: "a.wat", text: GOOD }],
      });
      expect(refused.response.errors).toMatchObject({ code: "Track-forbidden" });
      expect(refused.response.result).toBeUndefined();
    } finally {
      carol.close();
    }
  });

  it("says 'compiler unavailable' without a compiler, with the bridge disabled, and when no compiler is announced", async () => {
    const request = { _rmx_type: "msg_compile_build", sources: [{ name: "a.wat", text: GOOD }] };
    const unavailable = { code: "Track-compilerUnavailable", message: "compiler unavailable" };
    const none = await startStack({ remix: [buildRemix("calc", new TextEncoder().encode("tim-native"))] });
    const disabled = await startStack({
      remix: [buildRemix("calc", new TextEncoder().encode("tim-native"))],
      compiler: new DisabledCompiler(),
    });
    const elsewhere = await CompilerClient.start({
      bus: broker,
      prefix: "/amp/compiler-none",
      timeoutMs: 1000,
    });
    const unannounced = await startStack({
      remix: [buildRemix("calc", new TextEncoder().encode("tim-native"))],
      compiler: elsewhere,
    });
    try {
      for (const s of [none, disabled, unannounced]) {
        await s.apps.setRules(root, "calc", { allowed_run: ["alice"], allowed_build: ["alice"] });
        const c = await TrackClient.open(s.url, "calc", await s.token("alice"));
        try {
          expect((await c.request(request)).response.errors).toEqual(unavailable);
        } finally {
          c.close();
        }
      }
    } finally {
      await Promise.all([none.close(), disabled.close(), unannounced.close()]);
      await elsewhere.close();
    }
  });
});
