/**
 * The console in headless Chromium against a real amp process (real stores on a temp dir, free
 * ports, the Groovebox and Remix's public runtime from ../shared/remix-public). Screenshots of
 * each view at phone and desktop width land in test-artifacts/ (git-ignored).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  addVirtualAuthenticator,
  buildRemix,
  type Page,
  remixArtifactsFor,
  tempDir,
} from "@amp/test-support";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importRemix } from "../../server/test/helpers/cluster.js";
import type { ServerProcess } from "../../server/test/helpers/server-process.js";
import { type ConsoleHarness, startConsoleHarness } from "./harness.js";

const artifacts = remixArtifactsFor("the amp console in Chromium");

/** A PNG's width from its IHDR chunk (the first one, right after the signature). */
function pngWidth(bytes: Buffer): number {
  expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(bytes.subarray(12, 16).toString("latin1")).toBe("IHDR");
  return bytes.readUInt32BE(16);
}

describe.skipIf(!artifacts?.runtime)("the amp console, in Chromium against amp", () => {
  let h: ConsoleHarness;
  let amp: ServerProcess;
  let files: { path: string; remove: () => void };
  /** The browser's origin is the server's own base URL: passkeys are bound to its host name. */
  let origin: string;
  const mint = (user: string) => h.mint(user);
  const newPage = () => h.newPage();
  const shoot = (page: Page, name: string) => h.shoot(page, name);
  const signInWithToken = (page: Page, token: string) => h.signInWithToken(page, token);

  beforeAll(async () => {
    files = tempDir("amp-console-files-");
    // The hosts login plugins may call: the Auth test's plugin names one (never reached).
    h = await startConsoleHarness(artifacts!, ["--http-allow", "login.example.com"]);
    amp = h.amp;
    origin = h.origin;
  }, 120_000);

  afterAll(async () => {
    await h?.close();
    files?.remove();
  });

  let root: Page;

  it("GET / sends a browser to the console, which asks to sign in; an operator token signs in", async () => {
    root = await newPage();
    await root.goto(`${origin}/`);
    expect(new URL(root.url()).pathname).toBe("/_/");
    await expect.poll(() => root.getByRole("heading", { name: "Sign in to amp" }).isVisible()).toBe(true);
    await shoot(root, "console-sign-in");

    // Bad input first: a token that is no token is refused with the API's message.
    await signInWithToken(root, "not-a-token");
    await root.getByRole("alert").waitFor();
    expect(await root.getByRole("heading", { name: "Sign in to amp" }).isVisible()).toBe(true);

    await signInWithToken(root, await mint("root"));
    await root.getByRole("heading", { name: "Apps" }).waitFor();
    expect(await root.locator(".who").textContent()).toContain("root");
  });

  it("imports tim-wasm.remix through the file input and lists it", async () => {
    await root
      .getByLabel("Drop a .remix file here, or choose one")
      .setInputFiles(join(artifacts!.samples, "tim-wasm.remix"));
    await root.getByRole("status").filter({ hasText: "Imported tim-wasm." }).waitFor({ timeout: 30_000 });
    await root.getByRole("table", { name: "Apps" }).getByRole("link", { name: "tim-wasm" }).waitFor();
    await shoot(root, "console-apps");
  });

  it("bad input: an app name with / or .. is refused with the API's message, and nothing is created", async () => {
    for (const name of ["a/b", ".."]) {
      await root.getByLabel("Name", { exact: true }).fill(name);
      await root.getByRole("button", { name: "Create" }).click();
      await expect
        .poll(() => root.getByRole("alert").first().textContent())
        .toContain(`invalid app name "${name}"`);
    }
    const names = await root
      .getByRole("table", { name: "Apps" })
      .locator("tbody td:first-child a")
      .allTextContents();
    expect(names).toEqual(["tim-wasm"]);
  });

  it("bad input: a 50 MiB import shows its progress and can be cancelled", async () => {
    const big = join(files.path, "big.remix");
    writeFileSync(big, Buffer.alloc(50 * 1024 * 1024, 7));
    // Slow the upload down (8 MiB/s) so there is time to see it and cancel it.
    const cdp = await root.context().newCDPSession(root);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 8 * 1024 * 1024,
    });
    await root.getByLabel("Drop a .remix file here, or choose one").setInputFiles(big);
    const bar = root.locator("progress#import-progress");
    await bar.waitFor();
    await expect.poll(() => bar.evaluate((b) => (b as HTMLProgressElement).value)).toBeGreaterThan(0);
    await shoot(root, "console-import-progress");
    await root.getByRole("button", { name: "Cancel" }).click();
    const importForm = root.locator("form", { has: root.getByRole("heading", { name: "Import a .remix" }) });
    await expect.poll(() => importForm.getByRole("alert").textContent()).toContain("cancelled");
    expect(await bar.count()).toBe(0);
    await cdp.send("Network.emulateNetworkConditions", {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    await cdp.detach();
  });

  it("edits the ACL so alice can read; alice sees read-only views and the API's refusals as messages", async () => {
    await root.getByRole("link", { name: "tim-wasm" }).first().click();
    await root.getByRole("heading", { name: "tim-wasm" }).waitFor();
    await root.getByLabel("Add a user").fill("alice");
    await root.getByRole("button", { name: "Add", exact: true }).click();
    expect(await root.getByLabel("alice read").isChecked()).toBe(true);
    // bob may also write (allowed_create): he gets the edit buttons alice does not.
    await root.getByLabel("Add a user").fill("bob");
    await root.getByRole("button", { name: "Add", exact: true }).click();
    await root.getByLabel("bob create").check();
    await root.getByRole("button", { name: "Save access" }).click();
    await root.getByRole("status").filter({ hasText: "Access saved." }).waitFor();
    // The FFI report kept since the import: the page lists what the API answers, or says none.
    expect(await root.locator(".roles").textContent()).toContain("build");
    await root.getByRole("heading", { name: "FFIs this server does not answer" }).waitFor();
    const detail = await fetch(`${origin}/x/apps/tim-wasm`, {
      headers: { authorization: `Bearer ${await mint("root")}` },
    });
    const { ffiReport } = (await detail.json()) as {
      ffiReport: { ffis: string[]; unansweredFfis: string[] };
    };
    expect(ffiReport.ffis.length).toBeGreaterThan(30);
    if (ffiReport.unansweredFfis.length === 0) await root.locator(".ffis-none").waitFor();
    else
      expect(
        await root.getByRole("list", { name: "Unanswered FFIs" }).locator("li").allTextContents(),
      ).toEqual(ffiReport.unansweredFfis);
    await shoot(root, "console-app-detail");

    const alice = await newPage();
    await alice.goto(`${origin}/_/`);
    await signInWithToken(alice, await mint("alice"));
    await alice.getByRole("link", { name: "tim-wasm" }).click();
    await alice.getByRole("heading", { name: "tim-wasm" }).waitFor();
    await expect
      .poll(() => alice.getByRole("alert").first().textContent())
      .toContain("You can use this app but not see or change who may");
    expect(await alice.getByRole("button", { name: "Delete app" }).count()).toBe(0);
    expect(await alice.getByRole("button", { name: "Save access" }).count()).toBe(0);
    expect(await alice.locator(".roles").textContent()).toBe("Your roles: read");
    // No create or import for a user who is not root.
    await alice.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Apps" }).click();
    expect(await alice.getByRole("button", { name: "Create" }).count()).toBe(0);
    await shoot(alice, "console-read-only-apps");

    await alice.getByRole("link", { name: "Data" }).click();
    await alice.getByRole("table", { name: "Documents" }).waitFor();
    expect(await alice.getByRole("checkbox").count()).toBe(0);
    await alice.getByRole("table", { name: "Documents" }).getByRole("button").first().click();
    await alice.getByLabel("JSON", { exact: true }).waitFor();
    expect(await alice.getByRole("button", { name: "Save document" }).count()).toBe(0);
    expect(await alice.getByRole("button", { name: "Delete document" }).count()).toBe(0);
    await shoot(alice, "console-read-only-data");

    // A writer: the API tells the console his roles, so Data has the edit buttons (no ACL, no delete).
    const bob = await newPage();
    await bob.goto(`${origin}/_/apps/tim-wasm`);
    await signInWithToken(bob, await mint("bob"));
    await bob.getByRole("heading", { name: "tim-wasm" }).waitFor();
    await expect.poll(() => bob.locator(".roles").textContent()).toBe("Your roles: read, create");
    expect(await bob.getByRole("button", { name: "Delete app" }).count()).toBe(0);
    await bob.getByRole("link", { name: "Data" }).click();
    await bob.getByRole("table", { name: "Documents" }).waitFor();
    await expect.poll(() => bob.getByRole("checkbox").count()).toBeGreaterThan(0);
    await bob.getByRole("table", { name: "Documents" }).getByRole("button").first().click();
    await bob.getByRole("button", { name: "Save document" }).waitFor();
    expect(await bob.getByRole("button", { name: "Delete document" }).count()).toBe(1);
    await shoot(bob, "console-writer-data");
  });

  it("a query with a syntax error shows the error at its line and column", async () => {
    await root.goto(`${origin}/_/apps/tim-wasm/data`);
    await root.getByRole("table", { name: "Documents" }).waitFor();
    await root.getByLabel(/^Query/).fill('_rmx_type ==\n  (name "x"');
    await root.getByRole("button", { name: "Run" }).click();
    const error = root.locator(".query-error");
    await error.waitFor();
    expect(await error.textContent()).toContain("Line 2, column 3:");
    expect(await error.locator("pre").textContent()).toBe('  (name "x"\n  ^');
    await shoot(root, "console-data");

    // A good query lists what it finds.
    await root.getByLabel(/^Query/).fill('_rmx_type == "app"');
    await root.getByRole("button", { name: "Run" }).click();
    await expect.poll(() => error.count()).toBe(0);
    await expect
      .poll(() => root.getByRole("table", { name: "Documents" }).locator("tbody tr").count())
      .toBeGreaterThan(0);
  });

  it("Data pages through an app's documents and deletes the selected ones after confirmation", async () => {
    const token = await mint("root");
    const call = (method: string, path: string, body?: unknown) =>
      fetch(`${origin}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    expect((await call("POST", "/x/apps", { name: "notes" })).status).toBe(201);
    const notes = Array.from({ length: 30 }, (_, i) => ({
      _rmx_id: `note-${String(i).padStart(2, "0")}`,
      _rmx_type: "note",
      text: `note ${i}`,
    }));
    expect((await call("POST", "/notes", notes)).status).toBeLessThan(300);

    await root.goto(`${origin}/_/apps/notes/data`);
    const table = root.getByRole("table", { name: "Documents" });
    const ids = () => table.locator("tbody button.link").allTextContents();
    const pager = root.getByRole("navigation", { name: "Pages" });
    await expect.poll(ids).toHaveLength(25);
    expect((await ids())[0]).toBe("note-00");
    await pager.getByRole("button", { name: "Next" }).click();
    await expect.poll(ids).toEqual(["note-25", "note-26", "note-27", "note-28", "note-29"]);
    expect(await pager.getByRole("button", { name: "Next" }).isDisabled()).toBe(true);
    await pager.getByRole("button", { name: "Previous" }).click();
    await expect.poll(async () => (await ids())[0]).toBe("note-00");

    await root.getByLabel("Select note-01").check();
    await root.getByLabel("Select note-02").check();
    await root.getByRole("button", { name: "Delete 2 selected" }).click();
    await root.getByRole("button", { name: "Cancel" }).click();
    expect(await root.getByLabel("Select note-01").isChecked()).toBe(true);
    await root.getByRole("button", { name: "Delete 2 selected" }).click();
    await root.getByRole("button", { name: "Yes, delete 2 selected" }).click();
    await expect.poll(async () => (await ids()).slice(0, 2)).toEqual(["note-00", "note-03"]);
    const left = (await (await call("GET", "/notes?limit=100")).json()) as { documents: unknown[] };
    expect(left.documents).toHaveLength(28);
    await shoot(root, "console-data-paging");
  });

  it("an app's page lists its executables and files, and previews an image file", async () => {
    const png = Buffer.from(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
      "base64",
    );
    const stored = await fetch(`${origin}/tim-wasm/files/pixel.png`, {
      method: "PUT",
      headers: { authorization: `Bearer ${await mint("root")}`, "content-type": "image/png" },
      body: png,
    });
    expect(stored.status, await stored.text()).toBeLessThan(300);
    await root.goto(`${origin}/_/apps/tim-wasm`);
    await root.getByRole("heading", { name: "Executables" }).waitFor();
    await expect.poll(() => root.locator("main").textContent()).toContain("executable_cross.WASM");
    const row = root.getByRole("table", { name: "Files" }).locator("tr", { hasText: "pixel.png" });
    expect(await row.textContent()).toContain("image/png");
    await row.getByRole("button", { name: "Preview" }).click();
    const image = root.getByRole("img", { name: "Preview of pixel.png" });
    await image.waitFor();
    await expect.poll(() => image.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(1);
    await shoot(root, "console-app-files");
  });

  it("an imported app's resource shows by its name, marked public; Preview decodes it, Download saves it by name", async () => {
    const auth = { authorization: `Bearer ${await mint("root")}` };
    const resources = (await (
      await fetch(`${origin}/tim-wasm/resources`, { headers: auth })
    ).json()) as Record<string, { identifier: string }>;
    const identifier = resources["download_app_store.png"]?.identifier as string;
    expect(identifier).toMatch(/^[0-9a-f]{64}\.png$/);
    const served = await fetch(`${origin}/tim-wasm/files/${identifier}`, { headers: auth });
    expect(served.status).toBe(200);
    const stored = Buffer.from(await served.arrayBuffer());
    const width = pngWidth(stored);

    await root.goto(`${origin}/_/apps/tim-wasm`);
    const files = root.getByRole("table", { name: "Files" });
    const row = files.locator("tbody tr", { hasText: "download_app_store.png" });
    await row.waitFor();
    expect(await row.locator(".badge").textContent()).toBe("public resource");
    expect(await row.locator(".stored-name").textContent()).toBe(identifier);
    // A file the test uploaded is neither a resource nor public.
    expect(await files.locator("tbody tr", { hasText: "pixel.png" }).locator(".badge").count()).toBe(0);

    await row.getByRole("button", { name: "Preview" }).click();
    const image = root.getByRole("img", { name: "Preview of download_app_store.png" });
    await image.waitFor();
    await expect.poll(() => image.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(width);
    const [saved] = await Promise.all([
      root.waitForEvent("download"),
      row.getByRole("button", { name: "Download" }).click(),
    ]);
    expect(saved.suggestedFilename()).toBe("download_app_store.png");
    expect(readFileSync(await saved.path())).toEqual(stored);
    await shoot(root, "console-app-resources");
  });

  it("bad input: a resources.json that is not a map of names shows as a message, and the files are still listed", async () => {
    const token = await mint("root");
    const archive = join(files.path, "badres.remix");
    // The import stores the entry's file as public (it reads any list of {identifier}), but it names nothing.
    const list = [{ public: true, identifier: "deadbeef.png", bundled: false }];
    writeFileSync(
      archive,
      buildRemix("badres", { "apps/badres/resources.json": new TextEncoder().encode(JSON.stringify(list)) }),
    );
    await importRemix(amp, token, archive);
    const answered = await fetch(`${origin}/badres/resources`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await answered.json()).toEqual(list);

    await root.goto(`${origin}/_/apps/badres`);
    const row = root.getByRole("table", { name: "Files" }).locator("tbody tr", { hasText: "deadbeef.png" });
    await row.waitFor();
    await expect
      .poll(() => root.getByRole("alert").allTextContents())
      .toContain("resources.json: not a map of names to resources; files are listed by their stored names");
    expect(await row.locator(".badge").textContent()).toBe("public");
    await row.getByRole("button", { name: "Preview" }).click();
    await root.getByRole("img", { name: "Preview of deadbeef.png" }).waitFor();
  });

  it("a session of the public runtime in another page shows in Sessions; ending it there ends it for the client", async () => {
    const token = await mint("root");
    const client = await newPage();
    const frames: string[] = [];
    client.on("websocket", (ws) => ws.on("framereceived", (f) => frames.push(String(f.payload))));
    const url = new URL(`${origin}/r/index.html`);
    for (const [k, v] of Object.entries({
      "amp-prefix": `${origin}/`,
      "db-name": "tim-wasm",
      "screen-name": "home",
      token,
    }))
      url.searchParams.set(k, v);
    await client.goto(url.toString());
    await expect
      .poll(
        () => client.evaluate(() => document.querySelector("rmx-runtime")?.shadowRoot?.textContent ?? ""),
        {
          timeout: 30_000,
        },
      )
      .toContain("Hello there!");

    await root.getByRole("link", { name: "Sessions" }).click();
    const row = root
      .getByRole("table", { name: "Sessions" })
      .locator("tbody tr")
      .filter({ hasText: "tim-wasm" });
    await row.waitFor();
    expect(await row.textContent()).toContain("connected");
    await shoot(root, "console-sessions");
    await row.getByRole("button", { name: "End" }).click();
    await row.getByRole("button", { name: "Yes, end" }).click();
    await root.getByRole("status").filter({ hasText: "Ended session" }).waitFor();
    await expect.poll(() => row.count()).toBe(0);

    // The client's next message names the ended session: the server answers "no such session".
    await client.evaluate(() => {
      const shadow = document.querySelector("rmx-runtime")?.shadowRoot;
      const button = [...(shadow?.querySelectorAll("*") ?? [])].find((e) => e.textContent === "Click me");
      (button as HTMLElement | undefined)?.click();
    });
    await expect.poll(() => frames.join("\n"), { timeout: 15_000 }).toContain("no such session");
  });

  it("the Broker view lists connected clients and shows a topic's messages live over /x/broker.ws", async () => {
    const topic = "/org/local/ws/default/app/tim-wasm/console-demo";
    const publisher = await mqtt.connectAsync(`ws://localhost:${amp.http}/x/broker.ws`, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      clientId: "test-publisher",
      username: "root",
      password: `Bearer ${await mint("root")}`,
    });
    try {
      await root.getByRole("link", { name: "Broker" }).click();
      await root.getByLabel(/^Topic filter/).fill(`${topic}/#`);
      await root.getByRole("button", { name: "Subscribe" }).click();
      await root.getByRole("status").filter({ hasText: "Live: subscribed to" }).waitFor();
      await publisher.publishAsync(`${topic}/greeting`, "hello from the test");
      await root.getByRole("list", { name: "Messages" }).getByText("hello from the test").waitFor();
      // The list refreshes on its own: the publisher and the console's own client are there.
      await root.getByRole("button", { name: "Refresh" }).click();
      const table = root.getByRole("table", { name: "Connected clients" });
      await table.getByText("test-publisher").waitFor();
      await table.locator("tr", { hasText: "amp-console-" }).getByText(`${topic}/#`).waitFor();
      await shoot(root, "console-broker");
    } finally {
      await publisher.endAsync();
    }
  });

  it("signs in with a passkey (a CDP virtual authenticator) added from the Auth view", async () => {
    const cdp = await addVirtualAuthenticator(root);
    await root.getByRole("link", { name: "Auth" }).click();
    await root.getByRole("heading", { name: "Login plugins" }).waitFor();
    await root.getByRole("button", { name: "Add a passkey" }).click();
    await root.getByRole("status").filter({ hasText: "A passkey now signs in root." }).waitFor();
    await shoot(root, "console-auth");

    await root.getByRole("button", { name: "Sign out" }).click();
    await root.getByRole("heading", { name: "Sign in to amp" }).waitFor();
    await root.getByLabel("User (optional)").fill("root");
    await root.getByRole("button", { name: "Sign in with a passkey" }).click();
    await root.getByRole("heading", { name: "Apps" }).waitFor();
    expect(await root.locator(".who").textContent()).toContain("root");
    await cdp.detach();
  });

  it("Auth: root creates, edits and deletes a login plugin; its secret is never shown again", async () => {
    await root.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Auth" }).click();
    await root.getByRole("heading", { name: "Login plugins" }).waitFor();
    // OAuth2 with its endpoints named: an OIDC issuer would be looked up over the network.
    const config = {
      kind: "oauth2",
      authorizationEndpoint: "https://login.example.com/authorize",
      tokenEndpoint: "https://login.example.com/token",
      userinfoEndpoint: "https://login.example.com/userinfo",
      visibility: "confidential",
      clientId: "console-test",
      returnUrls: [`${origin}/_/signin`],
      clientSecret: "s3cret-never-shown",
    };
    // Bad input first: not JSON, then a config the API refuses; both are messages, nothing is stored.
    await root.getByLabel("Id", { exact: true }).fill("corp");
    await root.getByLabel(/^Configuration/).fill("{ not json");
    await root.getByRole("button", { name: "Save plugin" }).click();
    await expect.poll(() => root.getByRole("alert").first().textContent()).toContain("Not JSON");
    await root.getByLabel(/^Configuration/).fill(JSON.stringify({ ...config, tokenEndpoint: "not a url" }));
    await root.getByRole("button", { name: "Save plugin" }).click();
    await expect.poll(() => root.getByRole("alert").first().textContent()).toContain("tokenEndpoint");
    expect(await root.getByText("No login plugins are configured.").isVisible()).toBe(true);

    await root.getByLabel(/^Configuration/).fill(JSON.stringify(config));
    await root.getByRole("button", { name: "Save plugin" }).click();
    await root.getByRole("status").filter({ hasText: "Saved corp." }).waitFor();
    const row = root.getByRole("table", { name: "Login plugins" }).locator("tr", { hasText: "corp" });
    expect(await row.textContent()).toContain("oauth2");
    await row.getByRole("button", { name: "Edit" }).click();
    const edited = await root.getByLabel(/^Configuration/).inputValue();
    expect(edited).toContain("console-test");
    expect(edited).not.toContain("s3cret");
    expect(await root.content()).not.toContain("s3cret");
    await shoot(root, "console-auth-plugins");

    await row.getByRole("button", { name: "Delete" }).click();
    await row.getByRole("button", { name: "Yes, delete" }).click();
    await root.getByText("No login plugins are configured.").waitFor();
  });

  it("Auth: root sees the signing keys with their dates and the revocations; others see neither", async () => {
    const carol = await mint("carol");
    const revoked = await fetch(`${origin}/x/token/revoke`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: carol }),
    });
    expect(revoked.status).toBe(200);
    const jti = (JSON.parse(Buffer.from(carol.split(".")[1]!, "base64url").toString()) as { jti: string })
      .jti;
    await root.goto(`${origin}/_/auth`);
    const keys = root.getByRole("table", { name: "Signing keys" });
    await keys.waitFor();
    const signing = keys.locator("tbody tr", { hasText: "signing" });
    expect(await signing.count()).toBe(1);
    expect(await signing.textContent()).toContain("rotates");
    const row = root.getByRole("table", { name: "Revocations" }).locator("tr", { hasText: jti });
    await row.waitFor();
    expect(await row.locator("td").nth(2).textContent()).toBe("carol"); // the User column
    await shoot(root, "console-auth-keys");

    const alice = await newPage();
    await alice.goto(`${origin}/_/auth`);
    await signInWithToken(alice, await mint("alice"));
    await alice.getByRole("heading", { name: "Signing keys" }).waitFor();
    expect(await alice.getByRole("table", { name: "Signing keys" }).count()).toBe(0);
    expect(await alice.getByRole("heading", { name: "Revocations" }).count()).toBe(0);
    // Nor the server's metrics: the API refuses them (403) and the view draws no chart.
    await alice.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Server" }).click();
    await alice.getByText("The server's metrics are shown to root only.").waitFor();
    expect(await alice.locator(".charts").count()).toBe(0);
  });

  it("works from the keyboard: a skip link first, then the sections, each a real link", async () => {
    await root.goto(`${origin}/_/apps`);
    await root.getByRole("heading", { name: "Apps" }).waitFor();
    await root.keyboard.press("Tab");
    expect(await root.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    const focused: string[] = [];
    for (let i = 0; i < 6; i++) {
      await root.keyboard.press("Tab");
      focused.push(await root.evaluate(() => document.activeElement?.textContent ?? ""));
    }
    expect(focused).toEqual(["amp console", "Apps", "Sessions", "Broker", "Auth", "Server"]);
    // The focus ring is drawn (outline) on the focused link.
    const outline = await root.evaluate(
      () => getComputedStyle(document.activeElement as Element).outlineStyle,
    );
    expect(outline).toBe("solid");
    await root.keyboard.press("Enter");
    await root.getByRole("heading", { name: "Server", exact: true }).waitFor();
  });

  it("the Server view shows health and server info", async () => {
    await root.getByRole("link", { name: "Server" }).click();
    await root.locator(".health li.ok").filter({ hasText: "ready" }).waitFor();
    expect(await root.locator("pre.json").textContent()).toContain('"org"');
    await shoot(root, "console-server");
  });

  it("the Server view charts the metrics for root, and the request figures move with requests", async () => {
    await root.goto(`${origin}/_/server`);
    const answered = async () =>
      Number((await root.locator(".charts-total").textContent())?.match(/\d+/)?.[0]);
    await root.locator(".charts-total").waitFor();
    const before = await answered();
    for (let i = 0; i < 10; i++) await fetch(`${origin}/x/health/live`);
    // The next sample (every 5 s) counts them, and the requests' rate is charted.
    await expect.poll(answered, { timeout: 12_000 }).toBeGreaterThanOrEqual(before + 10);
    expect(await root.locator('[data-figure="Requests"]').textContent()).toMatch(/^\d+\.\d\/s$/);
    expect(await root.locator('[data-figure="Process memory"]').textContent()).toMatch(/^\d+ MiB$/);
    expect(await root.locator('[data-figure="Live sessions"]').textContent()).toMatch(/^\d+$/);
    expect(await root.locator('[data-figure="Broker messages"]').textContent()).toMatch(/^\d+\.\d\/s$/);
    expect(await root.locator("svg.sparkline polyline").count()).toBeGreaterThan(0);
    await shoot(root, "console-server-charts");
  });

  it("bad input: a token revoked mid-edit sends the user to sign in, and the edit is still there after", async () => {
    const page = await newPage();
    const token = await mint("root");
    await page.goto(`${origin}/_/apps/tim-wasm/data`);
    await signInWithToken(page, token);
    await page.getByRole("table", { name: "Documents" }).waitFor();
    await page.getByRole("table", { name: "Documents" }).getByRole("button").first().click();
    const editor = page.getByLabel("JSON (edit and save)");
    const edited = (await editor.inputValue()).replace(/^\{/, '{\n  "console_note": "kept across sign-in",');
    await editor.fill(edited);

    const revoked = await fetch(`${origin}/x/token/revoke`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });
    expect(revoked.status).toBeLessThan(300);
    await page.getByRole("button", { name: "Save document" }).click();
    await page.getByRole("heading", { name: "Sign in to amp" }).waitFor();
    expect(await page.getByRole("status").textContent()).toContain("Your session ended");
    await shoot(page, "console-expired");

    await signInWithToken(page, await mint("root"));
    await page.getByLabel("JSON (edit and save)").waitFor();
    expect(await page.getByLabel("JSON (edit and save)").inputValue()).toBe(edited);
    await page.getByRole("button", { name: "Save document" }).click();
    await expect.poll(() => page.getByLabel("JSON (edit and save)").count()).toBe(0);
    const check = await fetch(
      `${origin}/tim-wasm/query.json?query=${encodeURIComponent("console_note exists")}`,
      {
        headers: { authorization: `Bearer ${await mint("root")}` },
      },
    );
    expect(await check.text()).toContain("kept across sign-in");
  });
});
