import { authMiddleware } from "@amp/auth";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionsRoutes } from "../src/index.js";
import { buildRemix, logger, root, type Stack, startStack, TrackClient } from "./helpers.js";

const exe = new TextEncoder().encode("tim-native");

describe("GET /x/sessions and DELETE /x/sessions/{id} (native backend, real server)", () => {
  let stack: Stack;
  let routes: Hono;
  const tokens: Record<string, string> = {};
  const call = (user: string | undefined, method: string, path: string) =>
    routes.request(path, {
      method,
      headers: user ? { authorization: `Bearer ${tokens[user]}` } : {},
    });
  const open = async (user: string) => {
    const client = await TrackClient.open(stack.url, "app1", tokens[user]!);
    const { response } = await client.request({ _rmx_type: "msg_session_create", searchExe: true });
    expect(response.errors).toBeUndefined();
    return { client, session: response.session as string };
  };

  beforeAll(async () => {
    stack = await startStack({ remix: [buildRemix("app1", exe)] });
    await stack.apps.setRules(root, "app1", { allowed_run: ["alice", "bob"], allowed_agents: ["alice"] });
    for (const user of ["root", "alice", "bob"]) tokens[user] = await stack.token(user);
    routes = new Hono();
    routes.use("*", authMiddleware({ tokens: stack.tokens }));
    routes.route("/", sessionsRoutes({ sessions: stack.sessions, transforms: stack.transforms, logger }));
  });
  afterAll(() => stack?.close());

  it("root sees every session, others their own; ending one makes its client hear 'no such session'", async () => {
    const alice = await open("alice");
    const bob = await open("bob");
    try {
      const all = (await (await call("root", "GET", "/x/sessions")).json()) as {
        sessions: { id: string; user: string; app: string; attached: boolean }[];
      };
      expect(all.sessions.map((s) => s.id).sort()).toEqual([alice.session, bob.session].sort());
      const listed = all.sessions.find((s) => s.id === alice.session);
      // A single node: every session is the directory's own node, and no node can be missing.
      expect(listed).toMatchObject({
        user: "alice",
        app: "app1",
        attached: true,
        backend: "native",
        node: "local",
      });
      expect(all).not.toHaveProperty("unanswered");
      expect(Date.parse((listed as unknown as { lastActive: string }).lastActive)).toBeGreaterThan(
        Date.now() - 10_000,
      );
      // a native VM has no linear memory to report
      expect(listed).not.toHaveProperty("memoryBytes");
      const own = (await (await call("alice", "GET", "/x/sessions")).json()) as {
        sessions: { id: string }[];
      };
      expect(own.sessions.map((s) => s.id)).toEqual([alice.session]);

      // Bob may not end Alice's session: to him it does not exist.
      const refused = await call("bob", "DELETE", `/x/sessions/${alice.session}`);
      expect(refused.status).toBe(404);
      expect(await refused.json()).toMatchObject({ error: { code: "Track-noSession" } });

      expect((await call("root", "DELETE", `/x/sessions/${alice.session}`)).status).toBe(204);
      const after = await alice.client.request({
        _rmx_type: "msg_view_load",
        session: alice.session,
        module: "home",
        args: [{}, {}],
      });
      expect(after.response.errors).toMatchObject({ code: "Track-noSession", message: "no such session" });
      // Bob ends his own.
      expect((await call("bob", "DELETE", `/x/sessions/${bob.session}`)).status).toBe(204);
      expect((await call("bob", "DELETE", `/x/sessions/${bob.session}`)).status).toBe(404);
    } finally {
      alice.client.close();
      bob.client.close();
    }
  });

  it("GET /x/agents: root sees each agent that ran and its warm session; others are refused", async () => {
    const ran = await fetch(`${stack.url}/app1/agents/echo`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.alice}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(ran.status).toBe(201);
    const agents = (await (await call("root", "GET", "/x/agents")).json()) as {
      agents: { app: string; module: string; user: string; sessions: string[] }[];
    };
    expect(agents.agents).toEqual([
      { app: "app1", module: "echo", user: "alice", sessions: [expect.any(String)] },
    ]);
    const warm = agents.agents[0]?.sessions[0] as string;
    expect(stack.sessions.find(warm)?.user.id).toBe("alice");
    for (const user of ["alice", undefined]) expect((await call(user, "GET", "/x/agents")).status).toBe(403);
    await stack.transforms.close();
  });

  it("bad input: anonymous callers are refused; an over-long id is 400", async () => {
    expect((await call(undefined, "GET", "/x/sessions")).status).toBe(403);
    expect((await call(undefined, "DELETE", "/x/sessions/abc")).status).toBe(403);
    const long = await call("root", "DELETE", `/x/sessions/${"x".repeat(101)}`);
    expect(long.status).toBe(400);
  });
});
