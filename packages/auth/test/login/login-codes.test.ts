import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LoginCodeStore, MemorySingleUseStore } from "../../src/login/index.js";

describe("LoginCodeStore", () => {
  it("redeems a code once, to a copy of the identity it was issued for", async () => {
    const codes = new LoginCodeStore();
    const identity = { user: "alice", claims: { amr: ["oidc"] }, plugin: "corp" };
    const code = await codes.issue(identity);
    identity.claims.amr.push("mutated");
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await codes.redeem(code)).toEqual({ user: "alice", claims: { amr: ["oidc"] }, plugin: "corp" });
    expect(await codes.redeem(code)).toBeUndefined();
  });

  it("refuses expired and unknown codes", async () => {
    let now = 0;
    const codes = new LoginCodeStore({ ttlMs: 60_000, now: () => now });
    const code = await codes.issue({ user: "bob", claims: {} });
    now = 60_000;
    expect(await codes.redeem(code)).toBeUndefined();
    expect(await codes.redeem("")).toBeUndefined();
    expect(await codes.redeem("x".repeat(10_000))).toBeUndefined();
  });

  it("never redeems a code it did not issue", async () => {
    const codes = new LoginCodeStore();
    const issued = new Set(
      await Promise.all(Array.from({ length: 20 }, (_, i) => codes.issue({ user: `u${i}`, claims: {} }))),
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (guess) => {
        if (issued.has(guess)) return;
        expect(await codes.redeem(guess)).toBeUndefined();
      }),
    );
  });
});

describe("MemorySingleUseStore", () => {
  it("holds at most maxEntries, dropping the oldest first", async () => {
    const store = new MemorySingleUseStore<number>({ ttlMs: 1000, maxEntries: 3 });
    for (let i = 0; i < 5; i++) await store.put(`k${i}`, i);
    expect(store.size).toBe(3);
    expect(await store.take("k0")).toBeUndefined();
    expect(await store.take("k1")).toBeUndefined();
    expect(await store.take("k4")).toBe(4);
  });

  it("sweeps expired entries as new ones arrive", async () => {
    let now = 0;
    const store = new MemorySingleUseStore<number>({ ttlMs: 10, now: () => now });
    await store.put("a", 1);
    await store.put("b", 2);
    now = 10;
    await store.put("c", 3);
    expect(store.size).toBe(1);
    expect(await store.take("c")).toBe(3);
  });
});
