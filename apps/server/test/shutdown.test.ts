import { afterEach, describe, expect, it } from "vitest";
import { type CpuProfile, jsonBody } from "./helpers/json.js";
import { ServerProcess } from "./helpers/server-process.js";

// The slow request is a real one: a CPU profile on the admin port lasts as many seconds
// as asked, so a signal can arrive while it is in flight.
const ADMIN_TOKEN = "admin-credential-for-tests-0123";
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

let amp: ServerProcess | undefined;
afterEach(async () => {
  await amp?.dispose();
  amp = undefined;
});

async function startWithSlowRequest(seconds: number, args: string[] = []) {
  amp = await new ServerProcess(args, { RMX_ADMIN_TOKEN: ADMIN_TOKEN }).ready();
  // Settled into a value at once, so a cut connection is an outcome rather than an unhandled rejection.
  const slow: Promise<{
    status?: number;
    profile?: CpuProfile;
    error?: unknown;
  }> = fetch(amp.adminUrl(`/x/debug/profile?seconds=${seconds}`), { headers: auth })
    .then(async (res) => ({ status: res.status, profile: await jsonBody<CpuProfile>(res) }))
    .catch((error: unknown) => ({ error }));
  await amp.waitForLog("CPU profile started");
  return { amp, slow };
}

describe("shutting down on a signal", () => {
  it("SIGTERM stops accepting, drains the in-flight request and exits 0", async () => {
    const { amp, slow } = await startWithSlowRequest(2);
    const sentAt = Date.now();
    amp.signal("SIGTERM");
    await amp.waitForLog("stopping");
    await expect(fetch(amp.url("/x/health/live"))).rejects.toThrow(); // no longer accepting

    const { status, profile } = await slow;
    expect(status).toBe(200);
    expect(profile!.endTime - profile!.startTime).toBeGreaterThanOrEqual(1_900_000);

    const { code } = await amp.exited;
    expect(code).toBe(0);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1_500);
    expect(amp.logs.find((l) => l.message === "stopped")).toMatchObject({ drained: true, failed: [] });
  });

  it("SIGINT does the same", async () => {
    amp = await new ServerProcess().ready();
    amp.signal("SIGINT");
    expect((await amp.exited).code).toBe(0);
  });

  it("cuts what is still running when the grace period is over, and still exits 0", async () => {
    const { amp, slow } = await startWithSlowRequest(30, ["--shutdown-grace", "500ms"]);
    const sentAt = Date.now();
    amp.signal("SIGTERM");
    expect((await slow).error).toBeInstanceOf(Error);
    expect((await amp.exited).code).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(5_000);
    expect(amp.logs.find((l) => l.message === "stopped")).toMatchObject({ drained: false });
  });

  it("a second signal exits at once", async () => {
    const { amp, slow } = await startWithSlowRequest(30);
    amp.signal("SIGTERM");
    await amp.waitForLog("stopping");
    const sentAt = Date.now();
    amp.signal("SIGTERM");
    expect(await amp.exited).toEqual({ code: 143, signal: null });
    expect(Date.now() - sentAt).toBeLessThan(2_000);
    expect((await slow).error).toBeInstanceOf(Error);
  });
});
