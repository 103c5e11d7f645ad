/**
 * A real amp process (real stores on a temp dir, free ports, the Groovebox and Remix's public
 * runtime from ../shared/remix-public) with the built console, and headless Chromium pages
 * against it: what the console's browser tests share.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Browser,
  type BrowserContext,
  launchChromium,
  type Page,
  type RemixArtifacts,
  runtimeHostFolder,
} from "@amp/test-support";
import { expect } from "vitest";
import { runBin, ServerProcess } from "../../server/test/helpers/server-process.js";

export const SCREENSHOTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
export const WIDTHS = { phone: 390, desktop: 1280 } as const;

export interface ConsoleHarness {
  amp: ServerProcess;
  /** The browser's origin: the server's own base URL (passkeys are bound to its host name). */
  origin: string;
  /** A token for `user` (`amp token`; root is `root`). */
  mint(user: string): Promise<string>;
  /** A new browser context's page at desktop width; page errors go to the test's output. */
  newPage(): Promise<Page>;
  /** The page at both widths, full page, into test-artifacts/. */
  shoot(page: Page, name: string): Promise<void>;
  signInWithToken(page: Page, token: string): Promise<void>;
  /** A page running the public runtime on `app`'s `screen` with `token`: a live session. */
  openRuntime(app: string, token: string, screen?: string): Promise<Page>;
  close(): Promise<void>;
}

export async function startConsoleHarness(
  artifacts: RemixArtifacts,
  serverArgs: string[] = [],
): Promise<ConsoleHarness> {
  const host = runtimeHostFolder(artifacts.runtime!);
  const amp = await new ServerProcess(
    [
      "--no-compiler",
      "--groovebox",
      artifacts.groovebox,
      "--solo",
      "--static-runtime",
      host.path,
      "--static-groovebox",
      host.path,
      ...serverArgs,
    ],
    { RMX_ROOT_USER: "root" },
  ).ready(30_000);
  const origin = `http://localhost:${amp.http}`;
  const browser: Browser = await launchChromium();
  mkdirSync(SCREENSHOTS, { recursive: true });
  const contexts: BrowserContext[] = [];

  const newPage = async () => {
    const context = await browser.newContext({ viewport: { width: WIDTHS.desktop, height: 860 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on("pageerror", (error) => console.error(`pageerror: ${error.message}`));
    return page;
  };

  return {
    amp,
    origin,
    newPage,
    async mint(user) {
      const minted = await runBin(["token", "--user", user, "--database-dir", amp.dataDir], {
        RMX_ROOT_USER: "root",
      });
      expect(minted.code, minted.stderr).toBe(0);
      return minted.stdout.trim().split("\n").at(-1)!;
    },
    async shoot(page, name) {
      for (const [label, width] of Object.entries(WIDTHS)) {
        await page.setViewportSize({ width, height: 860 });
        await page.screenshot({ path: join(SCREENSHOTS, `${name}-${label}.png`), fullPage: true });
      }
      await page.setViewportSize({ width: WIDTHS.desktop, height: 860 });
    },
    async signInWithToken(page, token) {
      await page.getByLabel("Token").fill(token);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
    },
    async openRuntime(app, token, screen = "home") {
      const page = await newPage();
      const url = new URL(`${origin}/r/index.html`);
      for (const [k, v] of Object.entries({
        "amp-prefix": `${origin}/`,
        "db-name": app,
        "screen-name": screen,
        token,
      }))
        url.searchParams.set(k, v);
      await page.goto(url.toString());
      return page;
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close();
      await amp.dispose();
      host.remove();
    },
  };
}

/** The text the public runtime draws (inside its shadow root). */
export const runtimeText = (page: Page) =>
  page.evaluate(() => document.querySelector("rmx-runtime")?.shadowRoot?.textContent ?? "");
