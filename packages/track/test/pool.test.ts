import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type GrooveboxMachine, GrooveboxPool, standardHooks, type WarmOptions } from "@amp/machine";
import { appFixture, remixArtifactsFor } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The machine package's WAT app shells (a Wasm "app" whose link never returns).
import { type Stack, startStack, TrackClient } from "./helpers.js";

const artifacts = remixArtifactsFor("track pool tests (Groovebox)");
const GROOVEBOX = artifacts?.groovebox;
const SAMPLES = artifacts?.samples;
const haveArtifacts = artifacts !== undefined;

const alice = { id: "alice", anonymous: false, root: false, claims: {} };
const loadHome = { module: "home", args: [{}, { type: "start" }], argsEscEnabled: true };

async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return cond();
}

/** A stack on a one-worker pool (every VM shares the worker), with `pool.warm` calls recorded. */
async function poolStack() {
  const pool = await GrooveboxPool.open({ groovebox: GROOVEBOX!, workers: 1 });
  const warmed: WarmOptions[] = [];
  const warm = pool.warm.bind(pool);
  pool.warm = (code, spares, options = {}) => {
    warmed.push(options);
    return warm(code, spares, options);
  };
  const remix = new Uint8Array(readFileSync(join(SAMPLES!, "tim-wasm.remix")));
  const stack = await startStack({ pool, remix: [remix] });
  await stack.apps.setRules({ id: "root", anonymous: false, root: true }, "tim-wasm", {
    allowed_run: ["alice", "carol"],
  });
  return { pool, stack, warmed };
}

describe.skipIf(!haveArtifacts)("sessions on the Groovebox pool", () => {
  let pool: GrooveboxPool;
  let stack: Stack;
  let warmed: WarmOptions[];

  beforeAll(async () => {
    ({ pool, stack, warmed } = await poolStack());
  });
  afterAll(async () => {
    await stack?.close();
    await pool?.close();
  });

  it("warms an app that ran with a neutral env; the next session runs on a spare that holds no other session's secrets", async () => {
    const aliceToken = await stack.token("alice");
    const first = await stack.sessions.create({ user: alice, token: aliceToken, app: "tim-wasm" });
    expect(warmed).toEqual([
      {
        initEnv: {
          org: "testorg",
          workspace: "testws",
          app: "tim-wasm",
          user: "",
          token: "",
          baseURL: "http://127.0.0.1/",
          isMQTTEnabled: false,
        },
      },
    ]);
    const firstMachine = first.session.machine as GrooveboxMachine;
    expect(await firstMachine.memoryContains(new TextEncoder().encode(aliceToken))).toBe(true);
    await new Promise((r) => setTimeout(r, 200)); // the spare is built in the background

    const carolToken = await stack.token("carol");
    const client = await TrackClient.open(stack.url, "tim-wasm", carolToken);
    try {
      const created = await client.request({ _rmx_type: "msg_session_create", searchExe: true });
      expect(created.response.errors).toBeUndefined();
      const session = stack.sessions.get(created.response.session);
      const machine = session.machine as GrooveboxMachine;
      expect(await machine.memoryContains(new TextEncoder().encode(aliceToken))).toBe(false);
      expect(await machine.memoryContains(new TextEncoder().encode(carolToken))).toBe(true);
      const load = await client.request({ _rmx_type: "msg_view_load", session: session.id, ...loadHome });
      expect(load.response.errors).toBeUndefined();
      expect(load.pushed.flatMap((m) => m.cellMessages).map((c) => c.name)).toContain("home.view");
      // The standard hooks stay the machine's own handlers and nobody listens to ffiCall,
      // so the worker answers them in place (a load needs one round trip, not five).
      expect(stack.sessions.ffi.get("$showHook")).toBe(standardHooks().$showHook);
      expect(machine.listenerCount("ffiCall")).toBe(0);
    } finally {
      client.close();
      await stack.sessions.destroy(first.session.id);
    }
    // Warming happens once per app.
    await stack.sessions.create({ user: alice, token: aliceToken, app: "tim-wasm" });
    expect(warmed).toHaveLength(1);
  });

  it("a session whose VM is lost with its worker tells its client and ends; a new session works", async () => {
    const token = await stack.token("alice");
    const idle = await TrackClient.open(stack.url, "tim-wasm", token);
    const busy = await TrackClient.open(stack.url, "tim-wasm", token);
    try {
      const idleSession = (await idle.request({ _rmx_type: "msg_session_create" })).response.session;
      const busySession = (await busy.request({ _rmx_type: "msg_session_create" })).response.session;
      expect(
        (await busy.request({ _rmx_type: "msg_view_load", session: busySession, ...loadHome })).response
          .errors,
      ).toBeUndefined();

      // A runaway VM on the same (only) worker: the worker is ended after its hard limit.
      const looper = await pool.createMachine({ hardTimeoutMs: 500 });
      await looper.sendCode(0, await appFixture("", "(loop $forever (br $forever))"));
      const linking = looper.linkCode(0).catch((e: { code: string }) => e.code);
      await new Promise((r) => setTimeout(r, 50));
      // This load queues behind the runaway and is answered when the worker is lost.
      const inFlight = busy.request({ _rmx_type: "msg_view_load", session: busySession, ...loadHome });
      expect(await linking).toBe("timeout");

      const answer = (await inFlight).response;
      expect(answer.errors).toMatchObject({ code: "Track-noSession", message: "no such session" });
      expect(answer.errors?.reason).toMatch(/VM was lost: .*hard limit of 500 ms/);
      // The idle session's client is told without asking.
      expect(
        await until(() => idle.received.some((m) => m.session === idleSession && m.errors !== undefined)),
      ).toBe(true);
      const pushed = idle.received.find((m) => m.errors !== undefined)!;
      expect(pushed.responseTo).toBeUndefined();
      expect(pushed.errors).toMatchObject({ code: "Track-noSession", message: "no such session" });
      expect(pushed.errors?.reason).toMatch(/VM was lost: the worker hosting this VM was ended/);
      expect(await until(() => stack.sessions.find(idleSession) === undefined)).toBe(true);
      expect(stack.sessions.find(busySession)).toBeUndefined();

      // Later messages naming it hear "no such session" with the reason; a new session works.
      const late = await idle.request({ _rmx_type: "msg_view_load", session: idleSession, ...loadHome });
      expect(late.response.errors).toMatchObject({ code: "Track-noSession", message: "no such session" });
      expect(late.response.errors?.reason).toMatch(/VM was lost/);
      const again = (await idle.request({ _rmx_type: "msg_session_create" })).response;
      expect(again.errors).toBeUndefined();
      const load = await idle.request({ _rmx_type: "msg_view_load", session: again.session, ...loadHome });
      expect(load.response.errors).toBeUndefined();
      expect(load.pushed.flatMap((m) => m.cellMessages).map((c) => c.name)).toContain("home.view");
      expect(pool.stats().restarts).toBe(1);
    } finally {
      idle.close();
      busy.close();
    }
  });
});
