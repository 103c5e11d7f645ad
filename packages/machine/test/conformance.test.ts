import { isMixMap, type MixValue } from "@amp/codec";
import { appFixture } from "@amp/test-support";
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
  /** Code `sendCode` accepts (a module name natively, a trivially valid Mix Wasm unit for the Groovebox). */
  libraryCode(): Promise<Uint8Array>;
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
    libraryCode: async () => new TextEncoder().encode("tim-native"),
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
    libraryCode: () => appFixture("", ""),
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

    it("code is refused while an FFI other than $loader_loadLibrary is pending (FFIcall and later)", async () => {
      const code = await backend.libraryCode();
      const refusals: unknown[] = [];
      const tryCode = async (m: Machine, id: number) => {
        await m.sendCode(id, code).catch((e: unknown) => refusals.push(e));
        await m.linkCode(0).catch((e: unknown) => refusals.push(e));
      };
      // Held in FFIcall by a listener that loads code first, then answers.
      const m = await backend.machine(hooks);
      await m.init(testEnv);
      m.on("ffiCall", (call) => {
        if (call.name !== backend.hook) return;
        expect(m.state).toBe("FFIcall");
        call.later(tryCode(m, 7).then(() => null));
      });
      const held = await m.enter("load", "", 0, loadHome);
      expect(held.panics).toEqual([]);
      // An async handler: it starts in FFIcall, then (deferred with later) the machine is Running.
      const states: string[] = [];
      const ffi = hooks.extend().register(backend.hook, async (_args, ctx) => {
        states.push(ctx.machine.state);
        await tryCode(ctx.machine, 8);
        states.push(ctx.machine.state);
        return null;
      });
      const n = await backend.machine(ffi);
      await n.init(testEnv);
      expect((await n.enter("load", "", 0, loadHome)).panics).toEqual([]);
      expect(states).toEqual(["FFIcall", "Running"]);
      expect(refusals).toHaveLength(4);
      for (const e of refusals) {
        expect(e).toBeInstanceOf(MachineError);
        expect(e).toMatchObject({
          code: "illegal_state",
          message: expect.stringContaining("while $loader_loadLibrary is pending"),
        });
      }
      // Idle again: code is accepted.
      await n.sendCode(9, code);
      await n.linkCode(9);
      await m.destroy();
      await n.destroy();
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

describe("native backend: $loader_loadLibrary loads a library into the running machine", () => {
  const encode = (s: string) => new TextEncoder().encode(s);
  const app: NativeModule = {
    name: "app",
    entries: {
      async load(args, ctx) {
        const [library] = args as string[];
        ctx.output("loaded", "1", await ctx.ffi("$loader_loadLibrary", [library!]));
        await ctx.ffi("$after", []);
        return undefined;
      },
      async hold(_args, ctx) {
        await ctx.ffi("$hold", []);
        return undefined;
      },
    },
  };
  const greeter: NativeModule = {
    name: "greeter",
    entries: {
      async greet(_args, ctx) {
        ctx.output("greeting", "1", "hello from the library");
        return undefined;
      },
    },
  };
  /** A registry whose `$after` (called once the loader has answered) tries to load code: refused. */
  function registry(refusals: unknown[]): FfiRegistry {
    return new FfiRegistry().register("$after", async (_args, ctx) => {
      await ctx.machine.sendCode(99, encode("app")).catch((e: unknown) => refusals.push(e));
      return null;
    });
  }

  async function started(ffi: FfiRegistry): Promise<NativeMachine> {
    const m = new NativeMachine({ ffi, modules: [app, greeter] });
    await m.sendCode(0, encode("app"));
    await m.linkCode(0);
    await m.init(testEnv);
    return m;
  }

  it("a deferred (later) loader sends and links the library, then answers; its entries are callable", async () => {
    let nextID = 1;
    const states: string[] = [];
    const refusals: unknown[] = [];
    const ffi = registry(refusals).register("$loader_loadLibrary", async ([name], ctx) => {
      const id = nextID++;
      states.push(ctx.machine.state); // the handler starts while the call is in FFIcall
      await ctx.machine.sendCode(id, encode(name as string), name as string);
      states.push(ctx.machine.state); // deferred with later: Running
      await ctx.machine.linkCode(id, true);
      return null;
    });
    const m = await started(ffi);
    await expect(m.enter("greet", "greeter", 0, [])).rejects.toMatchObject({ code: "no_such_entry" });
    const load = await m.enter("load", "", 0, ["greeter"]);
    expect(load.panics).toEqual([]);
    expect(load.cells).toEqual([{ name: "loaded", version: "1", value: null }]);
    expect(states).toEqual(["FFIcall", "Running"]);
    // Once the loader has answered, the next FFI of the same entry cannot load code.
    expect(refusals).toEqual([expect.objectContaining({ code: "illegal_state" })]);
    const greet = await m.enter("greet", "greeter", 0, []);
    expect(greet.cells.map((c) => c.value)).toEqual(["hello from the library"]);
    await m.destroy();
  });

  it("a loader held in FFIcall by a listener may load code too", async () => {
    const refusals: unknown[] = [];
    const m = await started(registry(refusals));
    m.on("ffiCall", (call) => {
      if (call.name !== "$loader_loadLibrary") return;
      expect(m.state).toBe("FFIcall");
      const sent = m.sendCode(5, encode("greeter"), "greeter"); // checked at once, in FFIcall
      call.later(sent.then(() => m.linkCode(5, true)).then(() => null));
    });
    const load = await m.enter("load", "", 0, ["greeter"]);
    expect(load.panics).toEqual([]);
    expect(refusals).toHaveLength(1);
    expect((await m.enter("greet", "", 0, [])).cells).toHaveLength(1);
    await m.destroy();
  });

  it("only this machine's loader opens it: another machine in an FFI stays closed; a failed load aborts", async () => {
    let other: NativeMachine | undefined;
    let otherRefused: unknown;
    const ffi = registry([]).register("$loader_loadLibrary", async ([name], ctx) => {
      otherRefused = await other!.sendCode(1, encode("greeter")).catch((e: unknown) => e);
      await ctx.machine.sendCode(1, encode(name as string));
      return null;
    });
    const m = await started(ffi);
    other = await started(new FfiRegistry());
    other.on("ffiCall", (call) => call.later(new Promise((r) => setTimeout(() => r(null), 50))));
    const holding = other.enter("hold", "", 0, []);
    const failed = await m.enter("load", "", 0, ["no-such-module"]);
    expect(otherRefused).toMatchObject({ code: "illegal_state" });
    expect(failed.panics.map((p) => p.message)).toEqual([
      expect.stringContaining('no native module named "no-such-module"'),
    ]);
    expect((await holding).panics).toEqual([]);
    expect(m.state).toBe("Idle");
    await m.destroy();
    await other.destroy();
  });
});
