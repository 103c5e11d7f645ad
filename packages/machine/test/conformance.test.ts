import { isMixMap, type MixValue } from "@amp/codec";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  FfiRegistry,
  GrooveboxPool,
  type Machine,
  MachineError,
  NativeMachine,
  type NativeModule,
  standardHooks,
} from "../src/index.js";
import { appCode, GROOVEBOX_WASM, haveArtifacts, skipReason, testEnv } from "./artifacts.js";

/** The same behaviour, whatever runs underneath: each backend supplies a machine that can `load` `home`. */
interface Backend {
  name: string;
  available: boolean;
  machine(ffi: FfiRegistry): Promise<Machine>;
  /** An FFI the `home` load calls. */
  hook: string;
}

const homeModule: NativeModule = {
  name: "tim-native",
  entries: {
    async load(args, ctx) {
      const [screen] = args as MixValue[];
      ctx.output("$location", "", { module: screen as string });
      await ctx.ffi("$hideHook", ["view-0"]);
      ctx.output("home.view", "1", { _rmx_type: "dom_text", props: { value: "Hello there!" } });
      ctx.output("$nextActions", "", []);
      return undefined;
    },
  },
};

let pool: GrooveboxPool | undefined;
const backends: Backend[] = [
  {
    name: "native",
    available: true,
    hook: "$hideHook",
    async machine(ffi) {
      const m = new NativeMachine({ ffi, modules: [homeModule] });
      await m.sendCode(0, new TextEncoder().encode("tim-native"));
      await m.linkCode(0);
      return m;
    },
  },
  {
    name: "groovebox",
    available: haveArtifacts,
    hook: "$hideHook",
    async machine(ffi) {
      pool ??= await GrooveboxPool.open({ groovebox: GROOVEBOX_WASM!, workers: 1 });
      return pool.createMachine({ ffi, code: [{ codeID: 0, bytes: appCode("tim-wasm.remix") }] });
    },
  },
];

skipReason("conformance (groovebox backend)");
afterAll(async () => {
  await pool?.close();
});

const loadHome: MixValue = ["home", [{}, { type: "start" }]];

for (const backend of backends) {
  describe.skipIf(!backend.available)(`Machine conformance: ${backend.name}`, () => {
    let hooks: FfiRegistry;
    beforeAll(() => {
      hooks = new FfiRegistry().registerAll(standardHooks());
    });

    it("starts in Init, refuses enter before init, and reaches Idle through init", async () => {
      const m = await backend.machine(hooks);
      expect(m.state).toBe("Init");
      expect(() => m.enter("load", "", 0, loadHome)).toThrow(MachineError);
      const states: string[] = [];
      m.on("state", (s) => states.push(s));
      let initDone = 0;
      m.on("initDone", () => initDone++);
      await m.init(testEnv);
      expect(initDone).toBe(1);
      expect(states[0]).toBe("Running");
      expect(states).toContain("InitDone");
      expect(m.state).toBe("Idle");
      await m.destroy();
    });

    it("load emits cells as events, in order, and ends Idle", async () => {
      const m = await backend.machine(hooks);
      await m.init({ ...testEnv, app: "tim" });
      const seen: string[] = [];
      m.on("cell", (c) => seen.push(c.name));
      let idle = 0;
      m.on("idle", () => idle++);
      const result = await m.enter("load", "", 0, loadHome);
      expect(seen).toEqual(result.cells.map((c) => c.name));
      expect(seen).toEqual(expect.arrayContaining(["$location", "home.view", "$nextActions"]));
      expect(result.ffiCalls).toContain(backend.hook);
      expect(idle).toBe(1);
      expect(m.state).toBe("Idle");
      await m.destroy();
    });

    it("an FFI handler that throws aborts into the VM: a panic naming it, then Idle", async () => {
      const ffi = hooks.extend().register(backend.hook, () => {
        throw new Error("handler exploded");
      });
      const m = await backend.machine(ffi);
      await m.init(testEnv);
      const result = await m.enter("load", "", 0, loadHome);
      expect(
        result.panics.some((p) => p.message.includes(`FFI ${backend.hook} failed: handler exploded`)),
      ).toBe(true);
      expect(m.state).toBe("Idle");
      await m.enter("load", "", 0, loadHome); // still usable
      await m.destroy();
    });

    it("an async FFI answered later, and a rejected one, both reach the VM", async () => {
      let calls = 0;
      const ffi = hooks.extend().register(backend.hook, async () => {
        calls++;
        await new Promise((r) => setTimeout(r, 20));
        if (calls === 2) throw new Error("async failure");
        return null;
      });
      const m = await backend.machine(ffi);
      await m.init(testEnv);
      const ok = await m.enter("load", "", 0, loadHome);
      expect(ok.panics.filter((p) => p.message.includes("async failure"))).toEqual([]);
      const bad = await m.enter("load", "", 0, loadHome);
      expect(bad.panics.some((p) => p.message.includes("async failure"))).toBe(true);
      expect(m.state).toBe("Idle");
      await m.destroy();
    });

    it("an unknown FFI is aborted with a message naming it; an ffiCall listener may answer instead", async () => {
      const bare = new FfiRegistry().registerAll(standardHooks());
      const without = new FfiRegistry();
      for (const n of bare.names()) if (n !== backend.hook) without.register(n, bare.get(n)!);
      const m = await backend.machine(without);
      await m.init(testEnv);
      const result = await m.enter("load", "", 0, loadHome);
      expect(result.panics.some((p) => p.message.includes(`unknown FFI: ${backend.hook}`))).toBe(true);
      m.on("ffiCall", (call) => {
        if (call.name === backend.hook) call.return(null);
      });
      const answered = await m.enter("load", "", 0, loadHome);
      expect(answered.panics.some((p) => p.message.includes("unknown FFI"))).toBe(false);
      await m.destroy();
    });

    it("a missing entry and unencodable args are typed errors; the machine stays Idle", async () => {
      const m = await backend.machine(hooks);
      await m.init(testEnv);
      await expect(m.enter("no_such_tag", "", 0, [])).rejects.toMatchObject({ code: "no_such_entry" });
      expect(m.state).toBe("Idle");
      if (backend.name === "groovebox") {
        expect(() => m.enter("load", "", 0, [new Date() as unknown as MixValue])).toThrow(
          expect.objectContaining({ code: "bad_args" }),
        );
      }
      const again = await m.enter("load", "", 0, loadHome);
      expect(again.cells.length).toBeGreaterThan(0);
      await m.destroy();
    });

    it("destroy is final: later calls fail with a typed error", async () => {
      const m = await backend.machine(hooks);
      await m.init(testEnv);
      await m.destroy();
      expect(m.state).toBe("Destroyed");
      expect(() => m.enter("load", "", 0, loadHome)).toThrow(expect.objectContaining({ code: "destroyed" }));
    });
  });
}

describe("native backend specifics", () => {
  it("an entry that outlives the timeout reports timeout and returns to Idle", async () => {
    const slow: NativeModule = {
      name: "slow",
      entries: {
        async spin(_args, ctx) {
          await new Promise((r) => setTimeout(r, 500));
          ctx.output("late", "", true); // dropped: the interaction is over
          return undefined;
        },
      },
    };
    const m = new NativeMachine({ modules: [slow], timeoutMs: 50 });
    await m.sendCode(1, new TextEncoder().encode("slow"));
    await m.linkCode(1);
    await m.init(testEnv);
    let timeouts = 0;
    m.on("timeout", () => timeouts++);
    const r = await m.enter("spin", "slow", 0, []);
    expect(r.timedOut).toBe(true);
    expect(timeouts).toBe(1);
    expect(m.state).toBe("Idle");
  });

  it("withResult delivers the entry's value", async () => {
    const calc: NativeModule = {
      name: "calc",
      entries: {
        async add(args) {
          const [a, b] = args as number[];
          return a! + b!;
        },
      },
    };
    const m = new NativeMachine({ modules: [calc] });
    await m.sendCode(1, new TextEncoder().encode("calc"));
    await m.linkCode(1);
    await m.init(testEnv);
    expect((await m.enter("add", "", 0, [2, 3], true)).results).toEqual([5]);
    expect(isMixMap({})).toBe(true);
  });
});
