import { LmdbRecords, type Records } from "@amp/records";
import { PostgresDatabase, PostgresRecords } from "@amp/records/postgres";
import { silentLogger, startPostgres, type TestPostgres } from "@amp/test-support";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthError } from "../src/errors.js";
import { RevocationList } from "../src/revocations.js";
import type { StoredRevocation } from "../src/revocations-record.js";
import { cleanup, openTokens, tempDir } from "./helpers.js";

/**
 * What a revocation keeps (whose token, when, by whom) on both record engines, read back beside the
 * plain expiries earlier versions wrote, with bad values in the store ignored.
 */
let postgres: TestPostgres;
const closers: Array<() => Promise<void>> = [];
let databases = 0;

beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await cleanup();
  for (const close of closers.reverse()) await close();
  await postgres?.stop();
});

interface Engine {
  name: string;
  /** Fresh records; each call of the answer is one node's handle on them. */
  fresh(): Promise<() => Promise<Records>>;
}

const engines: Engine[] = [
  {
    name: "lmdb",
    async fresh() {
      const records = new LmdbRecords(tempDir());
      closers.push(() => records.close());
      return async () => records; // one process: the nodes share the handle (and its watch)
    },
  },
  {
    name: "postgres",
    async fresh() {
      const url = await postgres.createDatabase(`revocations_${++databases}`);
      return async () => {
        const database = await PostgresDatabase.connect({ url, logger: silentLogger });
        const records = await PostgresRecords.open(database, silentLogger);
        closers.push(async () => {
          await records.close();
          await database.close();
        });
        return records;
      };
    },
  },
];

const NAMESPACE = "auth-revocations";
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
/** The store as anyone may have written it: the values are not trusted. */
const rawStore = (records: Records) => records.open<unknown>(NAMESPACE);
const revocations = (records: Records) =>
  RevocationList.open(records.open<StoredRevocation>(NAMESPACE), Date.now);

/** "ok" when the token verifies, else the refusal's code. */
const verdict = (verify: Promise<unknown>) =>
  verify.then(
    () => "ok",
    (err: unknown) => (err instanceof AuthError ? err.code : String(err)),
  );

describe.each(engines)("revocation records on $name", (engine) => {
  it("reads an earlier version's plain expiry and ignores values that are not revocations", async () => {
    const node = await engine.fresh();
    const records = await node();
    const raw = rawStore(records);
    const exp = inAnHour();
    await raw.put("j:iss\0legacy", exp);
    await raw.put("j:iss\0string", "soon");
    await raw.put("j:iss\0no-exp", { user: "bob", revokedAt: 1 });
    await raw.put("j:iss\0bad-exp", { exp: "tomorrow", user: "bob" });
    await raw.put("j:iss\0null", null);
    await raw.put("u:j:iss\0redeemed", exp); // a refresh token's single-use mark: not a revocation

    const list = await revocations(records);
    expect(list.has("j:iss\0legacy")).toBe(true);
    for (const id of ["string", "no-exp", "bad-exp", "null"])
      expect(list.has(`j:iss\0${id}`), id).toBe(false);
    expect(list.has("j:iss\0redeemed")).toBe(false);
    expect(list.list(10)).toEqual([{ id: "j:iss\0legacy", exp }]);
    expect(await list.prune()).toBe(0); // bad values do not crash it; they are left alone
    expect(await raw.get("j:iss\0string")).toBe("soon");

    // A bad value written while running (the watch's path) is ignored too; a good one after it applies.
    await raw.put("j:iss\0late-bad", { exp: null });
    await raw.put("j:iss\0late-legacy", exp);
    await expect.poll(() => list.has("j:iss\0late-legacy"), { timeout: 2_000, interval: 10 }).toBe(true);
    expect(list.has("j:iss\0late-bad")).toBe(false);
    list.close();
  });

  it("keeps whose token it was, when and by whom, and another node reads it", async () => {
    const node = await engine.fresh();
    const [recordsA, recordsB] = [await node(), await node()];
    const [a, b] = [await revocations(recordsA), await revocations(recordsB)];
    const before = Math.floor(Date.now() / 1000);
    await a.add("j:iss\0t1", { exp: inAnHour(), user: "alice", by: "admin" });
    const [listed] = a.list(10);
    expect(listed).toMatchObject({ id: "j:iss\0t1", user: "alice", by: "admin" });
    expect(listed!.revokedAt).toBeGreaterThanOrEqual(before);
    expect(listed!.revokedAt).toBeLessThanOrEqual(Date.now() / 1000);
    expect(await rawStore(recordsA).get("j:iss\0t1")).toEqual({
      exp: listed!.exp,
      user: "alice",
      revokedAt: listed!.revokedAt,
      by: "admin",
    });
    await expect.poll(() => b.list(10)[0]?.user, { timeout: 2_000, interval: 10 }).toBe("alice");
    expect(b.list(10)[0]).toEqual(listed);

    // A user id past 256 characters is not kept; the revocation is.
    await a.add("j:iss\0t2", { exp: inAnHour(), user: "u".repeat(257) });
    expect(a.has("j:iss\0t2")).toBe(true);
    expect(a.list(10, "j:iss\0t1")[0]).not.toHaveProperty("user");
    a.close();
    b.close();
  });

  it("a revoked token is refused, by a new revocation or an earlier version's plain expiry; a bad value revokes nothing", async () => {
    const records = await (await engine.fresh())();
    const { tokens } = await openTokens({ records, issuer: "http://amp.test", logger: silentLogger });
    const raw = rawStore(records);
    const idOf = (token: string) => RevocationList.idOf(tokens.issuer, decodeJwt(token).jti, token);

    const alice = await tokens.issue("alice");
    expect(await tokens.revoke(alice, "admin")).toBe(true);
    expect(await verdict(tokens.verify(alice))).toBe("token_revoked");
    expect(tokens.revokedTokens(10)).toEqual([
      {
        id: idOf(alice),
        exp: decodeJwt(alice).exp,
        user: "alice",
        revokedAt: expect.any(Number),
        by: "admin",
      },
    ]);

    const carol = await tokens.issue("carol");
    await raw.put(idOf(carol), "garbage");
    const bob = await tokens.issue("bob");
    await raw.put(idOf(bob), decodeJwt(bob).exp); // as a node of an earlier version revokes
    await expect
      .poll(() => verdict(tokens.verify(bob)), { timeout: 2_000, interval: 10 })
      .toBe("token_revoked");
    expect(await verdict(tokens.verify(carol))).toBe("ok");
    expect(await tokens.pruneRevocations()).toBe(0);
    expect(tokens.revokedTokens(10).find((r) => r.id === idOf(bob))).toEqual({
      id: idOf(bob),
      exp: decodeJwt(bob).exp,
    });
  });
});
