import type { MixValue } from "@amp/codec";
import { describe, expect, it } from "vitest";
import { SpareSizer } from "../src/groovebox/spare-sizer.js";
import { FfiRegistry, GrooveboxPool, standardHooks } from "../src/index.js";
import { appCode, GROOVEBOX_WASM, haveArtifacts, skipReason, testEnv } from "./artifacts.js";

skipReason("spare sizing on a real pool");

describe("SpareSizer", () => {
  it("a burst raises the per-worker target; a quiet spell brings it back to the floor", () => {
    let now = 0;
    const sizer = new SpareSizer(1, 8, 10_000, () => now);
    expect(sizer.target(2)).toBe(1);
    for (let i = 0; i < 10; i++) sizer.arrival();
    expect(sizer.target(2)).toBe(5); // 10 recent arrivals over 2 workers
    expect(sizer.rate).toBeCloseTo((10 * Math.LN2) / 10, 5);
    now = 10_000; // one half-life
    expect(sizer.target(2)).toBe(3);
    now = 60_000;
    expect(sizer.target(2)).toBe(1);
  });

  it("a steady stream holds the cap, never past it; the floor holds with no arrivals", () => {
    let now = 0;
    const sizer = new SpareSizer(2, 8, 10_000, () => now);
    expect(sizer.target(2)).toBe(2);
    for (let i = 0; i < 1000; i++) {
      now += 10; // 100 sessions/s
      sizer.arrival();
    }
    expect(sizer.rate).toBeGreaterThan(50);
    expect(sizer.target(2)).toBe(8);
    now += 1_000_000;
    expect(sizer.target(2)).toBe(2);
    // A cap below the floor never lowers the floor.
    expect(new SpareSizer(3, 1, 1000, () => 0).target(2)).toBe(3);
  });
});

const loadHome: MixValue = ["home", [{}, { type: "start" }]];

describe.skipIf(!haveArtifacts)("GrooveboxPool rate-sized spares", () => {
  it("a burst spreads over the workers and raises their spares; a quiet spell lowers them to the floor", async () => {
    const pool = await GrooveboxPool.open({
      groovebox: GROOVEBOX_WASM!,
      workers: 2,
      spares: 1,
      maxSpares: 4,
      // Long enough that the burst (8 VMs made, slower on a loaded machine) and the refill after it
      // happen within a half-life or two; 400 ms failed once in CI.
      sparesHalfLifeMs: 2_500,
    });
    try {
      const ffi = new FfiRegistry().registerAll(standardHooks());
      const bytes = appCode("tim-wasm.remix");
      const code = [{ codeID: 0, bytes }];
      await pool.warm(code, 1, { initEnv: { ...testEnv, user: "", token: "warm" } });
      expect((await pool.memoryStats()).map((w) => w.spares)).toEqual([1, 1]);

      const burst = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const m = await pool.createMachine({ ffi, code });
          await m.init({ ...testEnv, token: `t-${i}` });
          await m.enter("load", "", 0, loadHome);
          return m;
        }),
      );
      // Spread: 4 sessions on each worker.
      expect((await pool.memoryStats()).map((w) => w.vms)).toEqual([4, 4]);
      // 8 recent arrivals over 2 workers: each worker refills above the floor of 1 (to 4 at once,
      // less as the count decays).
      const deadline = Date.now() + 10_000;
      let spares = (await pool.memoryStats()).map((w) => w.spares);
      while (spares.some((n) => n < 2) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        spares = (await pool.memoryStats()).map((w) => w.spares);
      }
      expect(Math.min(...spares)).toBeGreaterThanOrEqual(2);
      await Promise.all(burst.map((m) => m.destroy()));

      // Quiet for many half-lives: back to the floor, the surplus dropped.
      const quiet = Date.now() + 30_000;
      do {
        await new Promise((r) => setTimeout(r, 100));
        spares = (await pool.memoryStats()).map((w) => w.spares);
      } while (spares.some((n) => n !== 1) && Date.now() < quiet);
      expect(spares).toEqual([1, 1]);
    } finally {
      await pool.close();
    }
  }, 60_000);
});
