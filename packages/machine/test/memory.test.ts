import type { MixValue } from "@amp/codec";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FfiRegistry, GrooveboxPool, standardHooks } from "../src/index.js";
import { appCode, GROOVEBOX_WASM, haveArtifacts, skipReason, testEnv } from "./artifacts.js";

skipReason("pool memory: a busy spell's memory is given back once the workers are idle");

const loadHome: MixValue = ["home", [{}, { type: "start" }]];
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

describe.skipIf(!haveArtifacts)("GrooveboxPool memory", () => {
  it("gives back what 200 closed sessions held: RSS returns within a quarter of the peak growth", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "debug" }, { write: (line: string) => lines.push(line) });
    const pool = await GrooveboxPool.open({
      groovebox: GROOVEBOX_WASM!,
      workers: 2,
      recycleIdleMs: 3_000,
      logger,
    });
    try {
      const ffi = new FfiRegistry().registerAll(standardHooks());
      const code = () => [{ codeID: 0, bytes: appCode("tim-wasm.remix") }];
      await pool.warm(code(), 2, { initEnv: { ...testEnv, user: "", token: "warm" } });
      const before = rssMiB();
      const machines = [];
      for (let i = 0; i < 200; i += 20) {
        const batch = Array.from({ length: 20 }, async (_, j) => {
          const m = await pool.createMachine({ ffi, code: code() });
          await m.init({ ...testEnv, token: `t-${i + j}` });
          await m.enter("load", "", 0, loadHome);
          return m;
        });
        machines.push(...(await Promise.all(batch)));
      }
      const peak = rssMiB();
      expect(peak - before).toBeGreaterThan(200); // the sessions really held memory (≈3 MiB each)
      // Bursts of 20 creates at once: every reply matched its request.
      expect(lines.filter((l) => l.includes("out of order"))).toEqual([]);
      await Promise.all(machines.map((m) => m.destroy()));

      const bound = before + (peak - before) / 4;
      const deadline = Date.now() + 60_000;
      while (rssMiB() > bound && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
      expect(rssMiB(), `before ${before.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB`).toBeLessThanOrEqual(
        bound,
      );
      expect(pool.stats().recycled).toBeGreaterThan(0);

      // The recycled workers serve new sessions, pre-warmed as before.
      const m = await pool.createMachine({ ffi, code: code() });
      await m.init({ ...testEnv, token: "after" });
      const load = await m.enter("load", "", 0, loadHome);
      expect(load.cells.some((c) => c.name === "home.view")).toBe(true);
      await m.destroy();
    } finally {
      await pool.close();
    }
  }, 120_000);
});
