import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { loadConfig, serve } from "../src/index.js";
import { type ComposedAmp, startComposed } from "./helpers/composed.js";
import { errorCode } from "./helpers/json.js";

const PAGE = "http://pages.example.test:5173";
const OTHER = "https://evil.example.test";

function preflight(amp: ComposedAmp, path: string, origin: string, method = "POST") {
  return fetch(amp.url(path), {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": method,
      "access-control-request-headers": "authorization, content-type",
    },
  });
}

/** Opens a WebSocket; resolves with "open" or the refused upgrade's status. */
function openSocket(url: string, headers: Record<string, string>): Promise<"open" | number> {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    ws.once("open", () => {
      ws.close();
      resolve("open");
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("error", reject);
  });
}

describe("--cors-origins / RMX_CORS_ORIGINS", () => {
  it("reads exact origins, normalises case and a trailing slash, and accepts * alone", () => {
    const cl = loadConfig(["--cors-origins", "https://App.Example.com/, http://localhost:5173"], {});
    expect(!cl.help && cl.config.corsOrigins).toEqual(["https://app.example.com", "http://localhost:5173"]);
    const env = loadConfig([], { RMX_CORS_ORIGINS: "*" });
    expect(!env.help && env.config.corsOrigins).toEqual(["*"]);
    const none = loadConfig([], {});
    expect(!none.help && none.config.corsOrigins).toEqual([]);
  });

  it.each([
    ["https://app.example.com/path"],
    ["app.example.com"],
    ["ftp://app.example.com"],
    ["https://app.example.com?x=1"],
    ["*,https://app.example.com"],
    ["https://user@app.example.com"],
    ["null"],
  ])("refuses %s, naming the setting", (value) => {
    expect(() => loadConfig(["--cors-origins", value], {})).toThrow(/^--cors-origins: invalid value/);
    expect(() => loadConfig([], { RMX_CORS_ORIGINS: value })).toThrow(/^RMX_CORS_ORIGINS: /);
  });
});

describe("amp serve with a bad origin list", () => {
  it("exits 2 naming the flag or the variable", async () => {
    for (const [argv, env, name] of [
      [["--cors-origins", "https://app.example.com/app"], {}, "--cors-origins"],
      [[], { RMX_CORS_ORIGINS: "https://ok.example.com,not an origin" }, "RMX_CORS_ORIGINS"],
    ] as const) {
      let code: number | undefined;
      let stderr = "";
      await serve({
        argv,
        env,
        stdout: () => {},
        stderr: (t) => (stderr += t),
        exit: (c) => (code = c),
      });
      expect(code).toBe(2);
      expect(stderr).toMatch(new RegExp(`^amp: ${name}: invalid value`));
    }
  });
});

describe("CORS on the composed server with --cors-origins", () => {
  let amp: ComposedAmp;
  let root: string;
  beforeAll(async () => {
    amp = await startComposed({ corsOrigins: `${PAGE}` });
    root = await amp.token("root");
  });
  afterAll(() => amp.close());

  it("answers a preflight from an allowed origin: origin echoed, Authorization and Content-Type allowed, no credentials", async () => {
    const res = await preflight(amp, "/x/apps/import", PAGE);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(PAGE);
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(",");
    expect(allowed).toEqual(expect.arrayContaining(["authorization", "content-type", "if-none-match"]));
    expect(res.headers.get("access-control-allow-methods")).toMatch(/POST/);
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    expect(res.headers.get("vary")).toMatch(/origin/i);
  });

  it("a preflight from another origin gets 403 and no allow headers", async () => {
    const res = await preflight(amp, "/x/apps", OTHER);
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe("origin_not_allowed");
    for (const h of ["origin", "headers", "methods", "credentials"]) {
      expect(res.headers.get(`access-control-allow-${h}`)).toBeNull();
    }
  });

  it("an authenticated call from the page carries the allow-origin header and exposes ETag", async () => {
    const res = await fetch(amp.url("/x/apps"), {
      headers: { origin: PAGE, authorization: `Bearer ${root}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe(PAGE);
    expect(res.headers.get("access-control-expose-headers")).toMatch(/ETag/);
    // Errors too, so the page can read them.
    const bad = await fetch(amp.url("/x/apps"), { headers: { origin: PAGE, authorization: "Bearer nope" } });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("access-control-allow-origin")).toBe(PAGE);
  });

  it("a simple request from another origin gets no CORS header (the browser hides the answer)", async () => {
    const res = await fetch(amp.url("/x/serverinfo"), { headers: { origin: OTHER } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("WebSockets: allowed origin, same origin and no Origin open; another origin gets 403 before the upgrade", async () => {
    const ws = amp.url("/x/broker.ws").replace(/^http/, "ws");
    expect(await openSocket(ws, { origin: PAGE })).toBe("open");
    expect(await openSocket(ws, {})).toBe("open");
    expect(await openSocket(ws, { origin: amp.url("") })).toBe("open");
    expect(await openSocket(ws, { origin: "http://amp.test" })).toBe("open"); // the base URL's origin
    expect(await openSocket(ws, { origin: OTHER })).toBe(403);
    const track = amp.url(`/some_app/track.ws?token=${root}`).replace(/^http/, "ws");
    expect(await openSocket(track, { origin: OTHER })).toBe(403);
  });
});

describe("without --cors-origins", () => {
  let amp: ComposedAmp;
  beforeAll(async () => {
    amp = await startComposed();
  });
  afterAll(() => amp.close());

  it("same-origin needs nothing: no CORS headers, WebSockets from the server's own origin open", async () => {
    const res = await fetch(amp.url("/x/serverinfo"), { headers: { origin: amp.url("") } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const ws = amp.url("/x/broker.ws").replace(/^http/, "ws");
    expect(await openSocket(ws, { origin: amp.url("") })).toBe("open");
    expect(await openSocket(ws, { origin: PAGE })).toBe(403);
  });

  it("GET /favicon.ico is a 404 with the JSON error envelope", async () => {
    const res = await fetch(amp.url("/favicon.ico"));
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe("not_found");
  });
});

describe("--cors-origins *", () => {
  let amp: ComposedAmp;
  beforeAll(async () => {
    amp = await startComposed({ corsOrigins: "*" });
  });
  afterAll(() => amp.close());

  it("allows any origin with a wildcard and never credentials", async () => {
    const res = await preflight(amp, "/x/apps", OTHER);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    const get = await fetch(amp.url("/x/serverinfo"), { headers: { origin: OTHER } });
    expect(get.headers.get("access-control-allow-origin")).toBe("*");
    expect(get.headers.get("access-control-allow-credentials")).toBeNull();
  });
});
