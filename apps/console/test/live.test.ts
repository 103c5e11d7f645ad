/**
 * The console's live views in Chromium against a real amp process: sessions, the broker's
 * clients and log lines arrive over the broker's `$amp/…` topics (MQTT over /x/broker.ws), with
 * no polling and no Refresh click.
 */
import { join } from "node:path";
import { type Page, remixArtifactsFor } from "@amp/test-support";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importRemix } from "../../server/test/helpers/cluster.js";
import { type ConsoleHarness, runtimeText, startConsoleHarness } from "./harness.js";

const artifacts = remixArtifactsFor("the amp console's live views in Chromium");

describe.skipIf(!artifacts?.runtime)("the console's live views, pushed over the broker", () => {
  let h: ConsoleHarness;
  let root: Page;
  let rootToken: string;
  /** The console's GETs of each path, to prove the lists are not polled. */
  const gets: string[] = [];

  beforeAll(async () => {
    h = await startConsoleHarness(artifacts!);
    rootToken = await h.mint("root");
    await importRemix(h.amp, rootToken, join(artifacts!.samples, "tim-wasm.remix"));
    root = await h.newPage();
    root.on("request", (r) => {
      if (r.method() === "GET") gets.push(new URL(r.url()).pathname);
    });
    await root.goto(`${h.origin}/_/`);
    await h.signInWithToken(root, rootToken);
    await root.getByRole("heading", { name: "Apps" }).waitFor();
  }, 120_000);
  afterAll(() => h?.close());

  it("a runtime session appears in Sessions within 5 s without a Refresh, with its memory, and goes when ended", async () => {
    await root.getByRole("link", { name: "Sessions" }).click();
    await root.getByText("live: changes show as they happen").waitFor();
    await root.getByText("No live sessions.").waitFor();
    const loads = gets.filter((p) => p === "/x/sessions").length;

    const client = await h.openRuntime("tim-wasm", await h.mint("root"));
    await expect.poll(() => runtimeText(client), { timeout: 30_000 }).toContain("Hello there!");
    const row = root
      .getByRole("table", { name: "Sessions" })
      .locator("tbody tr")
      .filter({ hasText: "tim-wasm" });
    // The session was created before the runtime drew its screen: 5 s from here is generous (the
    // console never polls; the count of list reads below shows no reload happened).
    await row.waitFor({ timeout: 5_000 });
    await expect.poll(() => row.textContent(), { timeout: 5_000 }).toMatch(/\d+\.\d MiB/);
    expect(await row.textContent()).toContain("connected");
    // The live event names the node holding the session (a single node: \`local\`).
    expect(await row.locator("td").nth(4).textContent()).toBe("local");
    await h.shoot(root, "console-sessions-live");

    // Ended elsewhere (the API, as another operator would): the row goes on its own.
    const listed = (await (
      await fetch(`${h.origin}/x/sessions`, { headers: { authorization: `Bearer ${rootToken}` } })
    ).json()) as { sessions: { id: string; memoryBytes?: number }[] };
    expect(listed.sessions).toHaveLength(1);
    expect(listed.sessions[0]?.memoryBytes).toBeGreaterThan(64 * 1024);
    const ended = await fetch(`${h.origin}/x/sessions/${listed.sessions[0]?.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${rootToken}` },
    });
    expect(ended.status).toBe(204);
    await root.getByText("No live sessions.").waitFor({ timeout: 5_000 });
    // No polling: the list was read once, when the view opened.
    expect(gets.filter((p) => p === "/x/sessions").length).toBe(loads);
    await client.context().close();
  });

  it("a broker client connecting shows in the Broker view live, and goes when it disconnects", async () => {
    await root.getByRole("link", { name: "Broker" }).click();
    await root.getByText("live: clients show as they come and go").waitFor();
    const loads = gets.filter((p) => p === "/x/broker/clients").length;
    const table = root.getByRole("table", { name: "Connected clients" });
    const visitor = await mqtt.connectAsync(`ws://localhost:${h.amp.http}/x/broker.ws`, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      clientId: "live-visitor",
      username: "alice",
      password: `Bearer ${await h.mint("alice")}`,
    });
    const row = table.locator("tr", { hasText: "live-visitor" });
    await row.waitFor({ timeout: 5_000 });
    expect(await row.textContent()).toContain("alice");
    await visitor.subscribeAsync("$amp/sessions/alice");
    await row.getByText("$amp/sessions/alice").waitFor({ timeout: 5_000 });
    await h.shoot(root, "console-broker-live");
    await visitor.endAsync();
    await expect.poll(() => row.count(), { timeout: 5_000 }).toBe(0);
    expect(gets.filter((p) => p === "/x/broker/clients").length).toBe(loads);
  });

  it("Logs: a request's line appears live at its level, with no token from its URL or header", async () => {
    await root.getByRole("link", { name: "Logs" }).click();
    await root.getByText("live: new lines show as they are written").waitFor();
    const secret = "live-test-secret-4f9b2c";
    const asked = await fetch(`${h.origin}/x/serverinfo?token=${secret}&marker=live-log-line`, {
      headers: { authorization: `Bearer ${rootToken}` },
    });
    expect(asked.status).toBe(200);
    const lines = root.getByRole("list", { name: "Log lines" });
    await lines.getByText("marker=live-log-line").waitFor({ timeout: 5_000 });
    const shown = (await root.locator("main").textContent()) ?? "";
    expect(shown).not.toContain(secret);
    expect(shown).not.toContain(rootToken);
    await h.shoot(root, "console-logs");

    // The level filter: from "error" up the request line (info) is gone; a reload starts again at info.
    await root.getByLabel("Level").selectOption("error");
    await expect.poll(() => lines.getByText("marker=live-log-line").count()).toBe(0);
    await root.reload();
    await root.getByRole("heading", { name: "Logs" }).waitFor();
    await lines.getByText("marker=live-log-line").waitFor();
  });

  it("a user who is not root sees the API's refusal in Logs, and no token of theirs reaches the page", async () => {
    const alice = await h.newPage();
    await alice.goto(`${h.origin}/_/logs`);
    await h.signInWithToken(alice, await h.mint("alice"));
    await alice.getByRole("heading", { name: "Logs" }).waitFor();
    await alice.getByRole("alert").filter({ hasText: "only root sees the server's logs" }).waitFor();
    expect(await alice.getByRole("list", { name: "Log lines" }).count()).toBe(0);
    await alice.context().close();
  });
});
