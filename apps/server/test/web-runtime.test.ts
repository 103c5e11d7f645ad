/**
 * Remix's own web runtime (`rmx-runtime.js` with its MQTT hub `hub-worker.js`, from
 * ../shared/remix-public) in headless Chromium against a real amp process: what a person
 * sees in each of the runtime's three modes, with the page on amp's own origin and on
 * another one. Screenshots land in `test-artifacts/` (git-ignored) for a person to look at.
 */
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Browser,
  launchChromium,
  type Page,
  remixArtifactsFor,
  runtimeHostFolder,
} from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBin, ServerProcess } from "./helpers/server-process.js";

const artifacts = remixArtifactsFor("Remix's web runtime in Chromium");
const SCREENSHOTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));

/** The runtime's modes: `vm-init` absent (WebSocket), or a server VM driven over MQTT. */
const MODES = [
  { name: "websocket", vmInit: undefined },
  { name: "server-mqtt", vmInit: "server:mqtt" },
  { name: "server-groovebox", vmInit: "server:groovebox" },
] as const;

const BOOKS = "bill_gates_5_fav_books.json";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".json": "application/json",
};

/** A plain static server on another port: the page's origin when it is not amp's. */
function serveFolder(dir: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const file = {
      "/r/index.html": "index.html",
      "/r/rmx-runtime.js": "rmx-runtime.js",
      "/g/hub-worker.js": "hub-worker.js",
    }[path];
    if (!file) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(join(dir, file)));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe.skipIf(!artifacts?.runtime)("Remix's web runtime against amp, in Chromium", () => {
  let amp: ServerProcess;
  let otherOrigin: Server;
  let otherOriginUrl: string;
  let browser: Browser;
  let token: string;
  let books: string[];
  let folder: { path: string; remove: () => void } | undefined;

  beforeAll(async () => {
    const { groovebox, samples, runtime } = artifacts!;
    // amp's static folders get a temp copy (../shared is read-only) with our host page; the
    // collection's data_url file beside it.
    folder = runtimeHostFolder(runtime!);
    copyFileSync(join(runtime!, BOOKS), join(folder.path, BOOKS));
    const bookList = JSON.parse(readFileSync(join(folder.path, BOOKS), "utf8")) as {
      items: { name: string }[];
    };
    books = bookList.items.map((item) => item.name);

    otherOrigin = await serveFolder(folder.path);
    otherOriginUrl = `http://127.0.0.1:${(otherOrigin.address() as AddressInfo).port}`;
    amp = await new ServerProcess(
      [
        "--groovebox",
        groovebox,
        "--solo",
        "--static-runtime",
        folder.path,
        "--static-groovebox",
        folder.path,
        "--http-allow-private",
        "127.0.0.1",
        "--cors-origins",
        otherOriginUrl,
      ],
      { RMX_ROOT_USER: "root" },
    ).ready(30_000);
    const minted = await runBin(["token", "--user", "root", "--database-dir", amp.dataDir]);
    expect(minted.code, minted.stderr).toBe(0);
    token = minted.stdout.trim().split("\n").at(-1)!;
    for (const file of ["tim-wasm.remix", "collection.remix"]) {
      const res = await fetch(amp.url("/x/apps/import"), {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/zip" },
        body: readFileSync(join(samples, file)),
      });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
    }
    browser = await launchChromium();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await amp?.dispose();
    await new Promise((r) => otherOrigin?.close(r));
    folder?.remove();
  });

  /** Opens the host page on `origin` with the runtime pointed at amp; records window.open calls. */
  async function openApp(
    origin: string,
    app: string,
    screen: string,
    vmInit: string | undefined,
    params?: Record<string, unknown>,
  ): Promise<{ page: Page; opened: string[]; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1000, height: 720 } });
    const opened: string[] = [];
    const problems: string[] = [];
    await page.exposeFunction("__ampTestOpened", (url: string) => opened.push(url));
    await page.addInitScript(() => {
      // In the page: window.open is recorded instead of opening a tab.
      const page = globalThis as unknown as { open(url: unknown): null; __ampTestOpened(url: string): void };
      page.open = (url) => {
        page.__ampTestOpened(String(url));
        return null;
      };
    });
    page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
    page.on("response", (res) => {
      if (res.status() >= 400 && res.url().startsWith(amp.url("/")))
        problems.push(`${res.status()} ${res.url()}`);
    });
    const url = new URL(`${origin}/r/index.html`);
    url.searchParams.set("amp-prefix", amp.url("/"));
    url.searchParams.set("db-name", app);
    url.searchParams.set("screen-name", screen);
    url.searchParams.set("token", token);
    if (params) url.searchParams.set("params", JSON.stringify(params));
    if (vmInit) url.searchParams.set("vm-init", vmInit);
    await page.goto(url.toString());
    return { page, opened, problems };
  }

  /** What the runtime shows inside its shadow root (text as written, before CSS transforms). */
  const shownText = (page: Page) =>
    page.evaluate(() => {
      type Node = { shadowRoot?: { textContent: string | null } | null };
      const dom = globalThis as unknown as { document: { querySelector(s: string): Node | null } };
      return dom.document.querySelector("rmx-runtime")?.shadowRoot?.textContent ?? "";
    });

  async function waitForText(page: Page, texts: string[], timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let shown = "";
    while (Date.now() < deadline) {
      shown = await shownText(page);
      if (texts.every((t) => shown.includes(t))) return shown;
      await page.waitForTimeout(100);
    }
    return shown;
  }

  const origins = () => [
    { name: "same-origin", url: amp.url("").replace(/\/$/, "") },
    { name: "cross-origin", url: otherOriginUrl },
  ];

  for (const mode of MODES) {
    for (const where of ["same-origin", "cross-origin"] as const) {
      it(`tim-wasm/home, ${mode.name}, ${where}: "Hello there!", and the tap opens remixlabs.com`, async () => {
        const origin = origins().find((o) => o.name === where)!.url;
        const { page, opened, problems } = await openApp(origin, "tim-wasm", "home", mode.vmInit);
        try {
          const shown = await waitForText(page, ["Hello there!", "Click me"]);
          await page.screenshot({ path: join(SCREENSHOTS, `tim-wasm-${mode.name}-${where}.png`) });
          expect(shown, problems.join("\n")).toContain("Hello there!");
          expect(shown).toContain("Click me");
          // The env it prints shows the token as an opaque value, never the bearer token itself.
          expect(shown).toContain("<opaque token>");
          expect(shown).not.toContain(token);
          expect(shown).not.toContain(Buffer.from(token).toString("base64").slice(0, 64));
          await page.getByText("Click me").click();
          await expect.poll(() => opened, { timeout: 10_000 }).toContain("https://www.remixlabs.com");
          expect(problems).toEqual([]);
        } finally {
          await page.close();
        }
      });

      it(`my_records_public/collection, ${mode.name}, ${where}: the five books from a loopback data_url`, async () => {
        const origin = origins().find((o) => o.name === where)!.url;
        const dataUrl = amp.url("/r/bill_gates_5_fav_books.json");
        const { page, problems } = await openApp(origin, "my_records_public", "collection", mode.vmInit, {
          data_url: dataUrl,
        });
        try {
          const shown = await waitForText(page, books);
          await page.screenshot({ path: join(SCREENSHOTS, `collection-${mode.name}-${where}.png`) });
          for (const title of books) expect(shown, problems.join("\n")).toContain(title);
          expect(problems).toEqual([]);
        } finally {
          await page.close();
        }
      });
    }
  }
});
