import { appFixture, wat } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FfiRegistry, GrooveboxPool, standardHooks } from "../src/index.js";
import { appCode, GROOVEBOX_WASM, grooveboxBytes, haveArtifacts, skipReason, testEnv } from "./artifacts.js";
import { withBuildMin } from "./fixtures.js";

skipReason("bad input (groovebox)");

describe.skipIf(!haveArtifacts)("bad input to the Groovebox backend: typed errors, a healthy pool", () => {
  let pool: GrooveboxPool;
  const ffi = new FfiRegistry().registerAll(standardHooks());

  beforeAll(async () => {
    pool = await GrooveboxPool.open({ groovebox: GROOVEBOX_WASM!, workers: 2 });
  });
  afterAll(async () => {
    await pool?.close();
  });

  /** The pool still runs a real app end to end. */
  async function healthy(): Promise<void> {
    const m = await pool.createMachine({ ffi, code: [{ codeID: 0, bytes: appCode("tim-wasm.remix") }] });
    await m.init(testEnv);
    const r = await m.enter("load", "", 0, ["home", [{}, { type: "start" }]]);
    expect(r.cells.some((c) => c.name === "home.view")).toBe(true);
    await m.destroy();
  }

  it("corrupt Wasm, as the Groovebox or as app code", async () => {
    const corrupt = grooveboxBytes().slice(0, 5000);
    await expect(GrooveboxPool.open({ groovebox: corrupt, workers: 1 })).rejects.toMatchObject({
      code: "bad_wasm",
    });
    await expect(
      GrooveboxPool.open({ groovebox: new Uint8Array([1, 2, 3]), workers: 1 }),
    ).rejects.toMatchObject({
      code: "bad_wasm",
    });
    await expect(pool.createMachine({ code: [{ codeID: 0, bytes: corrupt }] })).rejects.toMatchObject({
      code: "bad_wasm",
    });
    const m = await pool.createMachine({ ffi });
    await expect(m.sendCode(0, new Uint8Array([0, 0x61, 0x73, 0x6d, 9, 9, 9]))).rejects.toMatchObject({
      code: "bad_wasm",
    });
    expect(m.state).toBe("Init");
    await m.destroy();
    await healthy();
  });

  it("a module that is not a Groovebox, or not compiled Mix code", async () => {
    const plain = await wat(`(module (func (export "hello")))`);
    await expect(GrooveboxPool.open({ groovebox: plain, workers: 1 })).rejects.toMatchObject({
      code: "not_groovebox",
    });
    await expect(pool.createMachine({ code: [{ codeID: 0, bytes: plain }] })).rejects.toMatchObject({
      code: "not_groovebox",
    });
    await healthy();
  });

  it("an app for a newer Groovebox build is refused", async () => {
    const newer = withBuildMin(appCode("tim-wasm.remix"), 9999);
    await expect(pool.createMachine({ code: [{ codeID: 0, bytes: newer }] })).rejects.toMatchObject({
      code: "build_too_new",
      message: expect.stringContaining("9999"),
    });
    const m = await pool.createMachine({ ffi });
    await expect(m.sendCode(0, newer)).rejects.toMatchObject({ code: "build_too_new" });
    await m.destroy();
    await healthy();
  });

  it("args of the wrong shape panic in the VM, which stays usable", async () => {
    const m = await pool.createMachine({ ffi, code: [{ codeID: 0, bytes: appCode("tim-wasm.remix") }] });
    await m.init(testEnv);
    const r = await m.enter("load", "", 0, 42);
    expect(r.panics.some((p) => p.message.includes("ERR_EXPECTED_ARRAY"))).toBe(true);
    expect(m.state).toBe("Idle");
    expect(() => m.enter("load", "", -1, [])).toThrow(expect.objectContaining({ code: "bad_args" }));
    expect(() => m.enter("x".repeat(300), "", 0, [])).toThrow(expect.objectContaining({ code: "bad_args" }));
    const ok = await m.enter("load", "", 0, ["home", [{}, { type: "start" }]]);
    expect(ok.panics).toEqual([]);
    await m.destroy();
  });

  it("a memory-hungry app is ended by the memory limit", async () => {
    const hungry = await appFixture("(drop (memory.grow (i32.const 1024)))", "");
    const m = await pool.createMachine({ ffi, memoryLimitBytes: 32 * 1024 * 1024 });
    let fatal: unknown;
    m.on("fatal", (e) => {
      fatal = e;
    });
    await expect(m.sendCode(0, hungry)).rejects.toMatchObject({ code: "memory_limit" });
    expect(fatal).toMatchObject({ code: "memory_limit" });
    expect(m.state).toBe("Destroyed");
    await healthy();
  });

  it("an app looping forever ends in a timeout within the limit while other VMs' taps complete", async () => {
    const other = await pool.createMachine({ ffi, code: [{ codeID: 0, bytes: appCode("tim-wasm.remix") }] });
    await other.init(testEnv);
    const load = await other.enter("load", "", 0, ["home", [{}, { type: "start" }]]);
    const tapArgs = ["home.$closure_0efd_19", "$cloenv_ap_0", null, [], {}];
    expect(load.cells.length).toBeGreaterThan(0);

    const looper = await pool.createMachine({ ffi, hardTimeoutMs: 1500 });
    await looper.sendCode(0, await appFixture("", "(loop $forever (br $forever))"));
    const restarts = pool.stats().restarts;
    const started = performance.now();
    const looping = looper.linkCode(0);
    const outcome = looping.then(
      () => "finished",
      (e: { code: string }) => e.code,
    );

    let taps = 0;
    while (performance.now() - started < 1000) {
      const tap = await other.enter("invoke3", "", 0, tapArgs);
      expect(tap.cells.find((c) => c.name === "$nextActions")?.value).toHaveLength(1);
      taps++;
    }
    expect(taps).toBeGreaterThan(5);
    expect(await outcome).toBe("timeout");
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(1500 + 1000);
    expect(looper.state).toBe("Timeout");
    expect(pool.stats().restarts).toBe(restarts + 1);
    await other.destroy();
    await healthy();
  });
});
