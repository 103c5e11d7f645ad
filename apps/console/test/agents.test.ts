/**
 * The Sessions view's Agents section (`GET /x/agents`, root only) in Chromium against a real amp
 * process. An agent is an app module the app's compiled code declares as one
 * (`derivedData.modInfos[].agents`); Remix's public sample apps declare none and the Mix compiler
 * that would build one is not public, so no agent can run here: what is tested is what the server
 * answers for that (the agent refused by the app's code, nothing kept warm) and who sees the section.
 */
import { join } from "node:path";
import { type Page, remixArtifactsFor } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importRemix } from "../../server/test/helpers/cluster.js";
import { type ConsoleHarness, startConsoleHarness } from "./harness.js";

const artifacts = remixArtifactsFor("the console's Agents section in Chromium");

describe.skipIf(!artifacts?.runtime)("the Sessions view's agents, against amp with tim-wasm", () => {
  let h: ConsoleHarness;
  const call = async (user: string, method: string, path: string, body?: unknown) =>
    fetch(`${h.origin}${path}`, {
      method,
      headers: { authorization: `Bearer ${await h.mint(user)}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  /** The paths a page GETs, to tell which lists its console asked for. */
  const gets = (page: Page) => {
    const paths: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "GET") paths.push(new URL(r.url()).pathname);
    });
    return paths;
  };

  beforeAll(async () => {
    h = await startConsoleHarness(artifacts!);
    await importRemix(h.amp, await h.mint("root"), join(artifacts!.samples, "tim-wasm.remix"));
    // alice holds roles on the app, agents included, but is not root.
    const acl = { allowed_read: ["alice"], allowed_run: ["alice"], allowed_agents: ["alice"] };
    expect((await call("root", "PUT", "/x/apps/tim-wasm/acl", acl)).status).toBe(204);
  }, 120_000);
  afterAll(() => h?.close());

  it("tim-wasm declares no agent, so the server refuses one by name and keeps nothing warm", async () => {
    const listed = (await (await call("root", "GET", "/tim-wasm?limit=100")).json()) as {
      documents: { _rmx_id: string; derivedData?: { modInfos: { name: string; agents: unknown[] }[] } }[];
    };
    const modules = listed.documents.find((d) => d._rmx_id === "_rmx_app")?.derivedData?.modInfos ?? [];
    expect(modules.map((m) => m.name)).toContain("home");
    expect(modules.flatMap((m) => m.agents)).toEqual([]);

    const ran = await call("alice", "POST", "/tim-wasm/agents/home", { hello: "agent" });
    expect(ran.status).toBe(500);
    expect(await ran.json()).toEqual({
      error: { code: "Track-panic", message: expect.stringContaining("agent not found: home") },
    });
    expect(await (await call("root", "GET", "/x/agents")).json()).toEqual({ agents: [] });
  });

  it("root sees the Agents section, as the server answers it: no agent ran", async () => {
    const root = await h.newPage();
    const asked = gets(root);
    await root.goto(`${h.origin}/_/sessions`);
    await h.signInWithToken(root, await h.mint("root"));
    await root.getByText("live: changes show as they happen").waitFor();
    await root.getByText("No live sessions.").waitFor();
    await root.getByRole("heading", { name: "Agents" }).waitFor();
    await root.getByText("No agent has run on this node since it started.").waitFor();
    expect(await root.getByRole("table", { name: "Agents" }).count()).toBe(0);
    expect(asked).toContain("/x/agents");
    await h.shoot(root, "console-agents");
  });

  it("a user with roles who is not root sees no Agents section, its list is never asked for, and the API refuses it", async () => {
    const alice = await h.newPage();
    const asked = gets(alice);
    await alice.goto(`${h.origin}/_/sessions`);
    await h.signInWithToken(alice, await h.mint("alice"));
    await alice.getByText("Your live VM sessions").waitFor();
    await alice.getByText("No live sessions.").waitFor();
    expect(await alice.getByRole("heading", { name: "Agents" }).count()).toBe(0);
    expect(await alice.getByRole("table", { name: "Agents" }).count()).toBe(0);
    expect(asked).toContain("/x/sessions");
    expect(asked).not.toContain("/x/agents");
    const refused = await call("alice", "GET", "/x/agents");
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: "Track-forbidden" } });
    await h.shoot(alice, "console-agents-not-root");
  });
});
