import { readFileSync } from "node:fs";
import { decodeRmx, encodeRmx } from "@amp/codec";
import { appFixture } from "@amp/test-support";
import { describe, expect, it } from "vitest";
import { localAnswerOf, standardHooks } from "../src/ffi/hooks.js";
import { GrooveboxVM, type VmRun } from "../src/groovebox/vm.js";
import { initEnvValue } from "../src/init-env.js";
import { appCode, GROOVEBOX_WASM, haveArtifacts, skipReason, testEnv } from "./artifacts.js";

/**
 * What `$loader_loadLibrary` needs of the Groovebox itself: code added and linked (with
 * initFlag) while the VM waits for an FFI answer, after which the app goes on. Driven
 * in-process (no worker), because no available Mix code calls `$loader_loadLibrary`: the
 * machine-level rules are in conformance.test.ts.
 */
skipReason("code loading into a running Groovebox");

const MARKER = [0x4d, 0x49, 0x58, 0x2d, 0x4c, 0x49, 0x42, 0x21]; // "MIX-LIB!"

/** A trivially valid Mix Wasm unit whose link step writes MARKER into the VM's memory. */
async function markerUnit(): Promise<Uint8Array> {
  const stores = MARKER.map(
    (b, i) => `(i32.store8 (i32.add (global.get 0) (i32.const ${i})) (i32.const ${b}))`,
  ).join(" ");
  return appFixture("", stores);
}

const compile = (bytes: Uint8Array) => new WebAssembly.Module(new Uint8Array(bytes));

function answerAll(vm: GrooveboxVM, run: VmRun): VmRun {
  let r = run;
  while (r.stop.type === "ffi") r = vm.ffiReturn(r.stop.coroutine, encodeRmx(null));
  return r;
}

function cells(runs: VmRun[]): string[] {
  return runs
    .flatMap((r) => r.events)
    .filter((e) => e.t === "cell")
    .map((e) => (decodeRmx((e as { args: Uint8Array }).args) as string[])[0]!);
}

describe.skipIf(!haveArtifacts)("Groovebox: code loaded while an FFI waits for its answer", () => {
  async function stoppedAtHook(): Promise<{ vm: GrooveboxVM; run: VmRun }> {
    const gb = new WebAssembly.Module(readFileSync(GROOVEBOX_WASM!));
    const vm = GrooveboxVM.create(gb, { timeoutMs: 5000, memoryLimitBytes: 256 << 20, build: 867 });
    vm.addCode(0, compile(appCode("tim-wasm.remix")), "tim-wasm");
    vm.linkCode(0, false);
    expect(answerAll(vm, vm.init(encodeRmx(initEnvValue(testEnv)))).stop.type).toBe("idle");
    // Every standard hook but $destroyHook is answered in place: the load stops there.
    const local = new Map();
    for (const [name, handler] of Object.entries(standardHooks())) {
      if (name !== "$destroyHook") local.set(name, localAnswerOf(handler));
    }
    vm.setLocalAnswers(local);
    const run = vm.enter("load", "", 0, encodeRmx(["home", [{}, { type: "start" }]]), false);
    expect(run.stop).toMatchObject({ type: "ffi", name: "$destroyHook" });
    return { vm, run };
  }

  it("while stopped at the FFI (FFIcall): the unit is added and linked with initFlag, then the load completes", async () => {
    const { vm, run } = await stoppedAtHook();
    const marker = new Uint8Array(MARKER);
    expect(vm.memoryContains(marker)).toBe(false);
    vm.addCode(1, compile(await markerUnit()), "lib-marker");
    vm.linkCode(1, true);
    expect(vm.memoryContains(marker)).toBe(true); // the unit's link step ran inside this VM
    const rest = answerAll(
      vm,
      run.stop.type === "ffi" ? vm.ffiReturn(run.stop.coroutine, encodeRmx(null)) : run,
    );
    expect(rest.stop.type).toBe("idle");
    expect(cells([run, rest])).toEqual(expect.arrayContaining(["home.view", "$nextActions"]));
    expect(rest.events.filter((e) => e.t === "panic")).toEqual([]);
  });

  it("while the FFI is deferred (later) and the VM idles: the unit is loaded, then the late answer completes the load", async () => {
    const { vm, run } = await stoppedAtHook();
    if (run.stop.type !== "ffi") throw new Error("expected an FFI stop");
    const { coroutine } = run.stop;
    const idle = vm.ffiLater();
    expect(idle.stop.type).toBe("idle");
    vm.addCode(1, compile(await markerUnit()), "lib-marker");
    vm.linkCode(1, true);
    expect(vm.memoryContains(new Uint8Array(MARKER))).toBe(true);
    const rest = answerAll(vm, vm.ffiReturn(coroutine, encodeRmx(null)));
    expect(rest.stop.type).toBe("idle");
    expect(cells([run, idle, rest])).toEqual(expect.arrayContaining(["home.view", "$nextActions"]));
    expect(rest.events.filter((e) => e.t === "panic")).toEqual([]);
  });
});
