import { Broker, BrokerClient } from "@amp/broker";
import {
  WAT_SYNTAX_ERROR as BAD,
  WAT_ANSWER as GOOD,
  RoleTable,
  startBroker,
  TestTokens,
  watCompiler,
} from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CompileHandler,
  CompilerClient,
  type CompilerService,
  DisabledCompiler,
  serveCompiler,
  serveStubCompiler,
} from "../src/index.js";

/** The slice of the WebAssembly global this test uses (the ES2023 lib leaves it out). */
declare const WebAssembly: {
  instantiate(bytes: Uint8Array): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

let tokens: TestTokens;
/** The broker the shared test helper starts. */
let broker: Broker;
const services: CompilerService[] = [];
const buses: BrokerClient[] = [];
const clients: CompilerClient[] = [];

/** A compiler process: its own broker connection over TCP, as the compiler service principal. */
async function startCompiler(handler: CompileHandler, options: Parameters<typeof serveCompiler>[2] = {}) {
  const bus = await BrokerClient.connect({
    url: `mqtt://127.0.0.1:${broker.port}`,
    username: "compiler-svc",
    token: await tokens.sign("compiler-svc"),
  });
  buses.push(bus);
  const service = await serveCompiler(handler, bus, { heartbeatMs: 1000, ...options });
  services.push(service);
  return service;
}

async function bridge(prefix?: string): Promise<CompilerClient> {
  const client = await CompilerClient.start({ bus: broker, prefix, timeoutMs: 5000 });
  clients.push(client);
  return client;
}

async function until(check: () => boolean) {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
  expect(check()).toBe(true);
}

beforeAll(async () => {
  tokens = await TestTokens.create();
  broker = await startBroker(Broker, {
    verifier: tokens,
    appRoles: new RoleTable(),
    acl: { isServer: (user) => user.id === "compiler-svc" },
  });
});

afterAll(async () => {
  for (const client of clients) await client.close();
  for (const service of services) await service.close().catch(() => {});
  for (const bus of buses) await bus.close();
  await broker.close();
});

describe("compiler bridge through the real broker", () => {
  it("says 'compiler unavailable' when no compiler has announced itself", async () => {
    const compiler = await bridge("/amp/compiler-none");
    await expect(
      compiler.compile({ app: "a", sources: [{ name: "main.wat", text: GOOD }] }),
    ).rejects.toMatchObject({
      code: "COMPILER_UNAVAILABLE",
    });
    await expect(new DisabledCompiler().compile()).rejects.toMatchObject({ code: "COMPILER_UNAVAILABLE" });
  });

  it("builds WAT into Wasm with a content hash, and reports compile errors with their location", async () => {
    const one = await startCompiler(await watCompiler());
    const compiler = await bridge();
    await until(() => compiler.instances.includes(one.instanceId));

    const result = await compiler.compile({ app: "calc", sources: [{ name: "main.wat", text: GOOD }] });
    expect(result).toMatchObject({ code: 0, errors: [], instance: one.instanceId });
    const [artifact] = result.artifacts;
    expect(artifact!.name).toBe("main.wasm");
    expect(artifact!.sha256).toMatch(/^[0-9a-f]{64}$/);
    const { instance } = await WebAssembly.instantiate(artifact!.bytes);
    expect((instance.exports.answer as () => number)()).toBe(42);

    const failed = await compiler.compile({ app: "calc", sources: [{ name: "main.wat", text: BAD }] });
    expect(failed.code).not.toBe(0);
    expect(failed.artifacts).toEqual([]);
    expect(failed.errors).toEqual([
      expect.objectContaining({
        code: "Compile-syntax",
        loc_file: "main.wat",
        loc_start_line: 4,
        loc_start_col: 5,
        name_module: "main",
        message: expect.stringContaining("i32.bogus"),
      }),
    ]);

    await expect(compiler.compile({ app: "", sources: [] } as never)).rejects.toMatchObject({
      code: "COMPILER_BAD_REQUEST",
    });
  });

  it("shares the load between two compilers, and drops one that stops", async () => {
    const compiler = await bridge();
    const two = await startCompiler(await watCompiler());
    await until(() => compiler.instances.length >= 2);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        compiler.compile({ app: "calc", sources: [{ name: `m${i}.wat`, text: GOOD }] }),
      ),
    );
    const byInstance = new Set(results.map((r) => r.instance));
    expect(byInstance.size).toBeGreaterThanOrEqual(2);
    expect(results.every((r) => r.code === 0)).toBe(true);

    await two.close();
    await until(() => !compiler.instances.includes(two.instanceId));
    const after = await compiler.compile({ app: "calc", sources: [{ name: "main.wat", text: GOOD }] });
    expect(after.instance).not.toBe(two.instanceId);
  });

  it("times out a compiler that does not answer, and cancels a running compile", async () => {
    let aborted = false;
    const stuck: CompileHandler = (_request, { signal }) =>
      new Promise((_resolve, reject) => {
        signal.addEventListener("abort", () => {
          aborted = true;
          reject(new Error("cancelled"));
        });
      });
    await startCompiler(stuck, { prefix: "/amp/compiler-slow" });
    const compiler = await bridge("/amp/compiler-slow");
    await until(() => compiler.instances.length === 1);
    const request = { app: "a", sources: [{ name: "main.wat", text: GOOD }] };

    await expect(compiler.compile(request, { timeoutMs: 200 })).rejects.toMatchObject({
      code: "COMPILER_TIMEOUT",
    });

    const controller = new AbortController();
    const pending = compiler.compile(request, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ code: "COMPILER_CANCELLED" });
    await until(() => aborted); // the compiler was told to stop
  });

  it("the embedded stub answers every request with 'compiler unavailable'", async () => {
    const stub = await serveStubCompiler(broker, { prefix: "/amp/compiler-stub" });
    services.push(stub);
    const compiler = await bridge("/amp/compiler-stub");
    await until(() => compiler.instances.length === 1);
    await expect(
      compiler.compile({ app: "a", sources: [{ name: "x.wat", text: GOOD }] }),
    ).rejects.toMatchObject({
      code: "COMPILER_UNAVAILABLE",
    });
  });
});
