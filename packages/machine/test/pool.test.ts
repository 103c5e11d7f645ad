import { randomUUID } from "node:crypto";
import type { MixValue } from "@amp/codec";
import { appFixture } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FfiCall, FfiRegistry, GrooveboxPool, type InitEnv, standardHooks } from "../src/index.js";
import { appCode, GROOVEBOX_WASM, haveArtifacts, skipReason, testEnv } from "./artifacts.js";

skipReason("pool: pre-initialized spares, no leaks, in-worker hooks");

const loadHome: MixValue = ["home", [{}, { type: "start" }]];
const tapButton: MixValue = ["home.$closure_0efd_19", "$cloenv_ap_0", null, [], {}];
const encode = (s: string) => new TextEncoder().encode(s);

describe.skipIf(!haveArtifacts)("GrooveboxPool spares", () => {
  const ffi = new FfiRegistry().registerAll(standardHooks());
  const code = () => [{ codeID: 0, bytes: appCode("tim-wasm.remix") }];
  // The warm-time env carries a marker, so a test can tell a pre-initialized VM from a fresh one.
  const neutralToken = `warm-${randomUUID()}`;
  const neutral: InitEnv = { ...testEnv, user: "", token: neutralToken };
  let fresh: GrooveboxPool;
  let warm: GrooveboxPool;

  beforeAll(async () => {
    [fresh, warm] = await Promise.all([
      GrooveboxPool.open({ groovebox: GROOVEBOX_WASM!, workers: 1 }),
      GrooveboxPool.open({ groovebox: GROOVEBOX_WASM!, workers: 1 }),
    ]);
    await warm.warm(code(), 2, { initEnv: neutral });
  });
  afterAll(async () => {
    await Promise.all([fresh?.close(), warm?.close()]);
  });

  async function session(pool: GrooveboxPool, env: InitEnv) {
    const m = await pool.createMachine({ ffi, code: code() });
    const init = await m.init(env);
    const load = await m.enter("load", "", 0, loadHome);
    return { m, init, load };
  }

  it("a pre-initialized spare gives a session the same init and load as a fresh VM", async () => {
    const env = { ...testEnv, token: `tok-${randomUUID()}` };
    const a = await session(fresh, env);
    const b = await session(warm, env);
    expect(await b.m.memoryContains(encode(neutralToken))).toBe(true); // it was pre-initialized
    expect(await a.m.memoryContains(encode(neutralToken))).toBe(false);
    expect(b.init).toEqual(a.init);
    expect(b.init.ffiCalls).toEqual(expect.arrayContaining(["$isSyncEnabled", "$mqtt_available"]));
    expect(b.load).toEqual(a.load);
    const tapA = await a.m.enter("invoke3", "", 0, tapButton);
    const tapB = await b.m.enter("invoke3", "", 0, tapButton);
    expect(tapB).toEqual(tapA);
    await Promise.all([a.m.destroy(), b.m.destroy()]);
  });

  it("nothing of a session (env, memory) is visible to the sessions after it", async () => {
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const secret = `secret-${i}-${randomUUID()}`;
      const user = `user-${i}-${randomUUID()}`;
      const { m } = await session(warm, { ...testEnv, user, token: secret });
      await m.enter("invoke3", "", 0, tapButton);
      // The markers are really in a live session's memory, so their absence below means something.
      expect(await m.memoryContains(encode(secret))).toBe(true);
      expect(await m.memoryContains(encode(user))).toBe(true);
      for (const earlier of seen) expect(await m.memoryContains(encode(earlier))).toBe(false);
      seen.push(secret, user);
      await m.destroy();
      // Every other session is served while the worker refills, every other one after.
      if (i % 2 === 1) await new Promise((r) => setTimeout(r, 100));
    }
  });

  it("more sessions at once than there are spares: each gets its own working VM", async () => {
    const envs = Array.from({ length: 5 }, (_, i) => ({ ...testEnv, token: `burst-${i}-${randomUUID()}` }));
    const sessions = await Promise.all(envs.map((env) => session(warm, env)));
    for (const [i, s] of sessions.entries()) {
      expect(s.load.cells.some((c) => c.name === "home.view")).toBe(true);
      for (const [j, env] of envs.entries()) {
        expect(await s.m.memoryContains(encode(env.token))).toBe(i === j);
      }
    }
    await Promise.all(sessions.map((s) => s.m.destroy()));
  });

  it("sessions created back to back, beyond the spares, keep getting pre-initialized VMs of their own", async () => {
    // Each create comes right after the previous session's load: the worker never has a
    // quiet spell, so the spares must be rebuilt between (and handed over from) requests.
    const envs = Array.from({ length: 6 }, (_, i) => ({ ...testEnv, token: `b2b-${i}-${randomUUID()}` }));
    const sessions = [];
    for (const env of envs) sessions.push(await session(warm, env));
    for (const [i, s] of sessions.entries()) {
      expect(await s.m.memoryContains(encode(neutralToken))).toBe(true);
      for (let j = 0; j < sessions.length; j++) {
        expect(await s.m.memoryContains(encode(`b2b-${j}-`))).toBe(i === j);
      }
      const reference = await session(fresh, envs[i]!);
      expect(s.load).toEqual(reference.load);
      await reference.m.destroy();
    }
    await Promise.all(sessions.map((s) => s.m.destroy()));
  });

  it("a session whose env answers the init-time queries differently gets a VM that inits for real", async () => {
    const env = { ...testEnv, isMQTTEnabled: true };
    const mqtt = await session(warm, env);
    const reference = await session(fresh, env);
    expect(await mqtt.m.memoryContains(encode(neutralToken))).toBe(false);
    expect(mqtt.init).toEqual(reference.init);
    expect(mqtt.load).toEqual(reference.load); // the app renders differently with MQTT: as on a fresh VM
    await Promise.all([mqtt.m.destroy(), reference.m.destroy()]);
  });

  it("code sent before the first init replaces a pre-initialized spare with a fresh VM", async () => {
    const m = await warm.createMachine({ ffi, code: code() });
    await m.sendCode(1, await appFixture("", ""));
    await m.linkCode(1);
    await m.init(testEnv);
    expect(await m.memoryContains(encode(neutralToken))).toBe(false);
    const load = await m.enter("load", "", 0, loadHome);
    expect(load.cells.some((c) => c.name === "home.view")).toBe(true);
    await m.destroy();
  });

  it("standard hooks are answered in the worker, unless overridden or watched through ffiCall", async () => {
    let shown = 0;
    const custom = ffi.extend().register("$showHook", () => {
      shown++;
      return null;
    });
    const { m, load } = await session(warm, testEnv);
    expect(load.ffiCalls).toEqual(expect.arrayContaining(["$destroyHook", "$hideHook", "$showHook"]));
    await m.destroy();

    const overridden = await warm.createMachine({ ffi: custom, code: code() });
    await overridden.init(testEnv);
    const calls: FfiCall[] = [];
    overridden.on("ffiCall", (call) => calls.push(call));
    await overridden.enter("load", "", 0, loadHome);
    expect(shown).toBe(1);
    expect(calls.map((c) => c.name)).toEqual(expect.arrayContaining(["$hideHook", "$showHook"]));
    overridden.removeAllListeners("ffiCall");
    calls.length = 0;
    await overridden.enter("load", "", 0, loadHome);
    expect(shown).toBe(2); // the override still reaches the host
    await overridden.destroy();

    // A handler registered after the machine's first interaction takes over from the worker.
    const late = ffi.extend();
    const later = await warm.createMachine({ ffi: late, code: code() });
    await later.init(testEnv);
    await later.enter("load", "", 0, loadHome);
    late.register("$showHook", () => {
      shown++;
      return null;
    });
    await later.enter("load", "", 0, loadHome);
    expect(shown).toBe(3);
    await later.destroy();
  });
});

describe.skipIf(!haveArtifacts)("a runaway VM's worker", () => {
  it("ends its neighbours with worker_lost naming the cause; new machines get a fresh worker", async () => {
    const pool = await GrooveboxPool.open({ groovebox: GROOVEBOX_WASM!, workers: 1 });
    try {
      const ffi = new FfiRegistry().registerAll(standardHooks());
      const neighbour = await pool.createMachine({
        ffi,
        code: [{ codeID: 0, bytes: appCode("tim-wasm.remix") }],
      });
      await neighbour.init(testEnv);
      const fatal: Array<{ code: string; message: string }> = [];
      neighbour.on("fatal", (e) => fatal.push(e));
      const looper = await pool.createMachine({ ffi, hardTimeoutMs: 500 });
      await looper.sendCode(0, await appFixture("", "(loop $forever (br $forever))"));
      await expect(looper.linkCode(0)).rejects.toMatchObject({ code: "timeout" });
      expect(looper.state).toBe("Timeout");
      expect(neighbour.state).toBe("Destroyed");
      expect(fatal).toHaveLength(1);
      expect(fatal[0]!.code).toBe("worker_lost");
      expect(fatal[0]!.message).toMatch(/ran past its hard limit of 500 ms.*create a new machine/);
      expect(() => neighbour.enter("load", "", 0, loadHome)).toThrow(
        expect.objectContaining({ code: "destroyed" }),
      );
      expect(pool.stats().restarts).toBe(1);
      const next = await pool.createMachine({ ffi, code: [{ codeID: 0, bytes: appCode("tim-wasm.remix") }] });
      await next.init(testEnv);
      expect((await next.enter("load", "", 0, loadHome)).cells.length).toBeGreaterThan(0);
      await next.destroy();
    } finally {
      await pool.close();
    }
  });
});
