import { tempDir } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleBuilt } from "../src/http/console.js";
import { composeAmp, serve } from "../src/index.js";
import { type ComposedAmp, startComposed } from "./helpers/composed.js";

describe("the first minute", () => {
  let amp: ComposedAmp;
  beforeAll(async () => {
    amp = await startComposed();
  });
  afterAll(() => amp?.close());

  it("GET / shows a browser where to go next, and tells a client the same in JSON", async () => {
    const page = await fetch(amp.url("/"), { headers: { accept: "text/html,*/*" }, redirect: "manual" });
    // With the console built (turbo builds it first), a browser goes there: see console-serving.test.ts.
    if (consoleBuilt()) expect(page.headers.get("location")).toBe("/_/");
    else {
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('href="/x/openapi.json"');
      expect(html).toContain('href="/x/health/ready"');
    }
    const json = await fetch(amp.url("/"));
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({ name: "amp", links: { openapi: "/x/openapi.json" } });
  });

  it("prints a short banner with the API, broker and admin URLs when a person watches the terminal", async () => {
    let stderr = "";
    const exits: number[] = [];
    const data = tempDir("amp-banner-");
    const server = await serve({
      argv: [
        "--port",
        "0",
        "--admin-port",
        "0",
        "--broker-port",
        "0",
        "--no-compiler",
        "--database-dir",
        data.path,
      ],
      env: { RMX_LOG_LEVEL: "silent" },
      stdout: () => {},
      stderr: (text) => (stderr += text),
      exit: (code) => exits.push(code),
      tty: true,
      compose: composeAmp,
    });
    try {
      const port = server!.addresses!.http.port;
      expect(stderr).toContain("amp is ready");
      expect(stderr).toContain(`API      http://localhost:${port}`);
      expect(stderr).toContain(`ws://localhost:${port}/x/broker.ws`);
      if (consoleBuilt()) expect(stderr).toContain(`Console  http://localhost:${port}/_/`);
      expect(stderr).toMatch(/Admin {4}http:\/\/127\.0\.0\.1:\d+\/metrics/);
      expect(exits).toEqual([]);
    } finally {
      await server?.stop();
      data.remove();
    }
  });
});
