import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRemix, root, type Stack, startStack } from "./helpers.js";

const exe = new TextEncoder().encode("tim-native");

describe("webhooks: an id registry per app (native backend, real server)", () => {
  let stack: Stack;
  const tokens: Record<string, string> = {};
  const call = (user: string, method: string, path: string, body?: unknown) =>
    fetch(`${stack.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${tokens[user]}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    stack = await startStack({ remix: [buildRemix("hooks", exe)] });
    await stack.apps.setRules(root, "hooks", {
      allowed_build: ["bob"],
      allowed_run: ["alice", "carol"],
    });
    for (const user of ["bob", "alice", "carol", "dave"]) tokens[user] = await stack.token(user);
  });
  afterAll(() => stack?.close());

  it("a builder registers a webhook with an unguessable id; calling it runs the module", async () => {
    const created = await call("bob", "POST", "/x/apps/hooks/webhooks", {
      module: "echo",
      description: "CI",
    });
    expect(created.status).toBe(201);
    const hook = (await created.json()) as { id: string; module: string; createdBy: string };
    expect(hook).toMatchObject({ module: "echo", createdBy: "bob", description: "CI" });
    expect(hook.id).toMatch(/^[0-9A-Za-z]{22}$/);

    const res = await call("alice", "POST", `/hooks/webhooks/${hook.id}`, { ping: 1 });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ echo: { ping: 1 } });

    const list = await call("bob", "GET", "/x/apps/hooks/webhooks");
    expect(((await list.json()) as { webhooks: { id: string }[] }).webhooks.map((w) => w.id)).toEqual([
      hook.id,
    ]);
  });

  it("a builder may choose the id; a taken id is 409", async () => {
    const created = await call("bob", "POST", "/x/apps/hooks/webhooks", {
      module: "echo",
      id: "github-push",
    });
    expect(created.status).toBe(201);
    const res = await call("carol", "PUT", "/hooks/webhooks/github-push", { v: 2 });
    expect(await res.json()).toEqual({ echo: { v: 2 } });
    const again = await call("bob", "POST", "/x/apps/hooks/webhooks", { module: "home", id: "github-push" });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: "Track-conflict" } });
  });

  it("an unknown id is 404, and a module name is no longer a webhook id", async () => {
    for (const path of ["/hooks/webhooks/nope", "/hooks/webhooks/echo"]) {
      const res = await call("alice", "POST", path, {});
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "Track-noWebhook" } });
    }
  });

  it("managing needs allowed_build; calling needs allowed_run; outsiders see no app", async () => {
    expect((await call("alice", "POST", "/x/apps/hooks/webhooks", { module: "echo" })).status).toBe(403);
    expect((await call("alice", "GET", "/x/apps/hooks/webhooks")).status).toBe(403);
    expect((await call("dave", "GET", "/x/apps/hooks/webhooks")).status).toBe(404);
    expect((await call("dave", "POST", "/hooks/webhooks/github-push", {})).status).toBe(404);
    expect((await call("alice", "DELETE", "/x/apps/hooks/webhooks/github-push")).status).toBe(403);
  });

  it("bad input: a bad module or id is 400 and registers nothing", async () => {
    const before = (
      (await (await call("bob", "GET", "/x/apps/hooks/webhooks")).json()) as { webhooks: unknown[] }
    ).webhooks.length;
    expect((await call("bob", "POST", "/x/apps/hooks/webhooks", { module: "../x" })).status).toBe(400);
    expect((await call("bob", "POST", "/x/apps/hooks/webhooks", { module: "echo", id: "a/b" })).status).toBe(
      400,
    );
    expect((await call("bob", "POST", "/x/apps/hooks/webhooks", { id: "x" })).status).toBe(400);
    const after = (
      (await (await call("bob", "GET", "/x/apps/hooks/webhooks")).json()) as { webhooks: unknown[] }
    ).webhooks.length;
    expect(after).toBe(before);
  });

  it("a removed webhook answers 404", async () => {
    expect((await call("bob", "DELETE", "/x/apps/hooks/webhooks/github-push")).status).toBe(204);
    expect((await call("alice", "POST", "/hooks/webhooks/github-push", {})).status).toBe(404);
    expect((await call("bob", "DELETE", "/x/apps/hooks/webhooks/github-push")).status).toBe(404);
  });

  it("concurrent registrations are all kept", async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `parallel-${i}`);
    const results = await Promise.all(
      ids.map((id) => call("bob", "POST", "/x/apps/hooks/webhooks", { module: "echo", id })),
    );
    expect(results.map((r) => r.status)).toEqual(ids.map(() => 201));
    const list = (await (await call("bob", "GET", "/x/apps/hooks/webhooks")).json()) as {
      webhooks: { id: string }[];
    };
    expect(list.webhooks.map((w) => w.id)).toEqual(expect.arrayContaining(ids));
  });
});
