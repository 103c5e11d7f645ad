import { ref } from "@amp/codec";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildRemix, importInto, root, type Stack, startStack, TrackClient } from "./helpers.js";

const exe = new TextEncoder().encode("tim-native");
const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return cond();
};

describe("sessions and protocol (native backend, real server)", () => {
  let stack: Stack;
  let token: string;
  const open = async () => {
    const client = await TrackClient.open(stack.url, "app1", token);
    const { response } = await client.request({ _rmx_type: "msg_session_create", searchExe: true });
    expect(response.errors).toBeUndefined();
    return { client, session: response.session };
  };

  beforeAll(async () => {
    stack = await startStack({
      remix: [buildRemix("app1", exe)],
      manager: { disconnectGraceMs: 100, sweepIntervalMs: 25, maxSessionsPerUser: 6, keepAliveMs: 60 },
    });
    await stack.apps.setRules({ id: "root", anonymous: false, root: true }, "app1", {
      allowed_run: ["alice", "carol"],
      allowed_agents: ["alice"],
    });
    token = await stack.token("alice");
  });
  // Sessions of closed clients end after the grace period; each test starts with none.
  beforeEach(async () => {
    await until(() => stack.sessions.size === 0, 1500);
  });
  afterAll(() => stack?.close());

  it("answers unknown and invalid messages with an error response and keeps the connection", async () => {
    const { client, session } = await open();
    try {
      const unknown = await client.request({ _rmx_type: "msg_nonsense" });
      expect(unknown.response.errors?.code).toBe("Track-unknownMessage");
      const invalid = await client.request({ _rmx_type: "msg_view_load", session });
      expect(invalid.response.errors).toMatchObject({ code: "Track-badMessage" });
      expect(invalid.response.errors?.message).toContain("module");
      client.ws.send("not json{");
      await until(() => client.received.some((m) => m.errors?.message === "invalid JSON"));
      const lost = await client.request({ _rmx_type: "msg_view_load", session: "nope", module: "home" });
      expect(lost.response.errors).toEqual({ code: "Track-noSession", message: "no such session" });
      const ok = await client.request({
        _rmx_type: "msg_view_load",
        session,
        module: "home",
        args: [{}, {}],
      });
      expect(ok.response.errors).toBeUndefined();
    } finally {
      client.close();
    }
  });

  it("a panic is an error response and the session stays usable", async () => {
    const { client, session } = await open();
    try {
      const bad = await client.request({
        _rmx_type: "msg_view_load",
        session,
        module: "panic",
        args: [{}, {}],
      });
      expect(bad.response.errors).toMatchObject({ code: "Track-panic", message: "boom" });
      const ok = await client.request({
        _rmx_type: "msg_view_load",
        session,
        module: "home",
        args: [{}, {}],
      });
      expect(ok.response.errors).toBeUndefined();
    } finally {
      client.close();
    }
  });

  it("sends $keepAlive cells that the client answers; answers are not errors", async () => {
    const { client } = await open();
    try {
      expect(await until(() => client.keepAlives >= 2)).toBe(true);
      const answers = client.received.filter((m) => m.responseTo === "msg_session_keepAlive");
      expect(await until(() => client.received.some((m) => m.responseTo === "msg_session_keepAlive"))).toBe(
        true,
      );
      expect(answers.every((m) => m.errors === undefined)).toBe(true);
    } finally {
      client.close();
    }
  });

  it("a client that disconnects mid-interaction leaks no VM", async () => {
    const { client, session } = await open();
    client.ws.send(
      JSON.stringify({ _rmx_type: "msg_view_load", session, module: "slow", args: [{ ms: 200 }, {}] }),
    );
    await new Promise((r) => setTimeout(r, 30));
    client.close();
    const vm = stack.sessions.find(session)!.machine;
    expect(await until(() => stack.sessions.find(session) === undefined)).toBe(true);
    expect(vm.state).toBe("Destroyed");
  });

  it("a reconnecting client picks its session up within the grace period", async () => {
    const { client, session } = await open();
    client.close();
    const again = await TrackClient.open(stack.url, "app1", token);
    try {
      const r = await again.request({ _rmx_type: "msg_view_load", session, module: "home", args: [{}, {}] });
      expect(r.response.errors).toBeUndefined();
      expect(r.pushed.length).toBeGreaterThan(0);
      await new Promise((res) => setTimeout(res, 250));
      expect(stack.sessions.find(session)).toBeDefined();
    } finally {
      again.close();
    }
  });

  it("limits sessions per user", async () => {
    const clients = await Promise.all([open(), open(), open(), open(), open(), open()]);
    try {
      const extra = await TrackClient.open(stack.url, "app1", token);
      const r = await extra.request({ _rmx_type: "msg_session_create" });
      expect(r.response.errors).toEqual({
        code: "Track-tooManySessions",
        message: "at most 6 sessions per user",
      });
      extra.close();
    } finally {
      for (const c of clients) c.client.close();
    }
    await until(() => stack.sessions.size === 0);
  });

  it("agents answer over HTTP with the module's $response; agents need allowed_agents", async () => {
    const res = await fetch(`${stack.url}/app1/agents/echo`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ hello: 1 }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-agent")).toBe("yes");
    expect(await res.json()).toEqual({ echo: { hello: 1 } });
    const carol = await fetch(`${stack.url}/app1/agents/echo`, {
      method: "POST",
      headers: { authorization: `Bearer ${await stack.token("carol")}` },
    });
    expect(carol.status).toBe(403);
    const lambda = await fetch(`${stack.url}/app1/lambda/home`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(lambda.status).toBe(200);
    expect(((await lambda.json()) as { cells: { name: string }[] }).cells.map((c) => c.name)).toContain(
      "home.view",
    );
  });

  it("HTTP: create, load, batch, destroy; then the session is lost", async () => {
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const post = async (path: string, body: unknown) =>
      (await (
        await fetch(`${stack.url}/app1/${path}`, {
          method: "POST",
          headers: auth,
          body: JSON.stringify(body),
        })
      ).json()) as never;
    const created = (await post("track/msg_session_create", { searchExe: true })) as { session: string };
    const load = (await post("track/msg_view_load", {
      session: created.session,
      module: "home",
      args: [{}, {}],
    })) as {
      cellMessages: { name: string }[];
    };
    expect(load.cellMessages.map((c) => c.name)).toContain("home.view");
    const batch = (await post("track", [
      { _rmx_type: "msg_introspect_state", session: created.session },
      { _rmx_type: "msg_session_destroy", session: created.session },
      { _rmx_type: "msg_view_load", session: created.session, module: "home" },
    ])) as Array<{ result?: { state: string }; errors?: { message: string } }>;
    expect(batch[0]!.result?.state).toBe("Idle");
    expect(batch[1]!.errors).toBeUndefined();
    expect(batch[2]!.errors?.message).toBe("no such session");
    const big = await fetch(`${stack.url}/app1/track/msg_view_load`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ x: "y".repeat(2 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    const notJson = await fetch(`${stack.url}/app1/track`, { method: "POST", headers: auth, body: "[{" });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe("bad_request");
  });

  it("another user's session is 'no such session'; an idle session times out", async () => {
    const { client, session } = await open();
    client.close();
    const carol = await TrackClient.open(stack.url, "app1", await stack.token("carol"));
    const r = await carol.request({ _rmx_type: "msg_view_load", session, module: "home" });
    expect(r.response.errors?.message).toBe("no such session");
    carol.close();

    const s = (
      await stack.sessions.create({
        user: { id: "alice", anonymous: false, root: false, claims: {} },
        token,
        app: "app1",
      })
    ).session;
    (s as { timeoutMs: number }).timeoutMs = 50;
    await until(() => stack.sessions.find(s.id) === undefined);
    expect(() => stack.sessions.get(s.id)).toThrow("session timed out");
  });

  it("sessions run an app's executable as it is now, after it changed", async () => {
    const alice = { id: "alice", anonymous: false, root: false, claims: {} };
    await importInto(stack.apps, buildRemix("app2", exe));
    await stack.apps.setRules(root, "app2", { allowed_run: ["alice"] });
    const first = await stack.sessions.create({ user: alice, token, app: "app2" });
    await stack.sessions.destroy(first.session.id);
    // A new build replaces the executable's blob (as a compile would).
    const store = await stack.apps.store(root, "app2", ["allowed_build"]);
    const blob = await store.blobs.put([new TextEncoder().encode("renamed-module")]);
    const [doc] = (await store.list(1000)).filter((d) => d._rmx_type === "executable_cross");
    await store.write([{ op: "upsert", doc: { ...doc!, dataRef: ref(blob.ref) } }], "root");
    await expect(stack.sessions.create({ user: alice, token, app: "app2" })).rejects.toMatchObject({
      code: "Track-machine",
      message: 'no native module named "renamed-module"',
    });
  });

  it("a looping session does not delay other sessions' taps beyond 50 ms p99", async () => {
    const looping = await open();
    const other = await open();
    try {
      looping.client.ws.send(
        JSON.stringify({
          _rmx_type: "msg_view_load",
          session: looping.session,
          module: "spin",
          args: [{ ms: 1500 }, {}],
        }),
      );
      const times: number[] = [];
      for (let i = 0; i < 100; i++) {
        const t = performance.now();
        await other.client.request({
          _rmx_type: "msg_view_invoke",
          session: other.session,
          name: "home.$closure_1",
        });
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      expect(times[Math.floor(times.length * 0.99)]!).toBeLessThan(50);
    } finally {
      looping.client.close();
      other.client.close();
    }
  });
});
