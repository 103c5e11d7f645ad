import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ServerInfo } from "../src/index.js";
import {
  type CpuProfile,
  errorCode,
  type HeapSnapshot,
  jsonBody,
  type OpenApiDocument,
} from "./helpers/json.js";
import { rawGet } from "./helpers/raw-http.js";
import { type LogLine, runBin, ServerProcess } from "./helpers/server-process.js";

const ADMIN_TOKEN = "admin-credential-for-tests-0123";
const statics = mkdtempSync(join(tmpdir(), "amp-static-"));
const folders = { builder: "e", runtime: "r", groovebox: "g", rcm: "x/rcm" };

let amp: ServerProcess;

beforeAll(async () => {
  for (const [name, prefix] of Object.entries(folders)) {
    mkdirSync(join(statics, name, "sub"), { recursive: true });
    writeFileSync(join(statics, name, "index.html"), `<h1>${name} at /${prefix}/</h1>`);
    writeFileSync(join(statics, name, "sub", "app.js"), `console.log("${name}")`);
  }
  writeFileSync(join(statics, "secret.txt"), "outside every served folder");
  amp = new ServerProcess(
    [
      "--solo",
      ...Object.keys(folders).flatMap((name) => [`--static-${name}`, join(statics, name)]),
      "--body-limit",
      "1024",
    ],
    {
      RMX_ORG: "acme",
      RMX_WORKSPACE: "prod",
      RMX_BASE_URL: "https://amp.acme.test/",
      RMX_ADMIN_TOKEN: ADMIN_TOKEN,
    },
  );
  await amp.ready();
});

afterAll(async () => {
  await amp?.dispose();
  rmSync(statics, { recursive: true, force: true });
});

describe("the public port", () => {
  it("is live and ready", async () => {
    for (const path of ["/x/health/live", "/x/health/ready"]) {
      const res = await fetch(amp.url(path));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ok" });
    }
  });

  it("answers /x/serverinfo with the configured identity and the build", async () => {
    const res = await fetch(amp.url("/x/serverinfo"));
    expect(res.status).toBe(200);
    const info = await jsonBody<ServerInfo>(res);
    expect(info).toMatchObject({
      org: "acme",
      workspace: "prod",
      baseURL: "https://amp.acme.test",
      build: "0.1.0",
    });
    expect(info.SHA1).toMatch(/^([0-9a-f]{40}|unknown)$/);
    expect(typeof info.stdlibID).toBe("string");
  });

  it("describes its routes in /x/openapi.json from their schemas", async () => {
    const doc = await jsonBody<OpenApiDocument>(await fetch(amp.url("/x/openapi.json")));
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/x/health/live", "/x/health/ready", "/x/serverinfo"]),
    );
    expect(doc.components.schemas.ServerInfo?.required).toEqual(
      expect.arrayContaining(["org", "workspace", "baseURL", "build", "SHA1", "stdlibID"]),
    );
    expect(doc.servers[0]?.url).toBe("https://amp.acme.test");
  });

  it("answers an unknown route with the uniform error shape", async () => {
    const res = await fetch(amp.url("/no/such/thing"));
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: "not_found", message: "no route for GET /no/such/thing" },
    });
  });

  it("refuses an announced body over the default limit with 413; never buffers a streamed one", async () => {
    const announced = await fetch(amp.url("/x/serverinfo"), { method: "POST", body: "x".repeat(2048) });
    expect(announced.status).toBe(413);
    expect(await errorCode(announced)).toBe("too_large");
    // --body-limit is the limit of routes that declare none; a streamed body that no route reads
    // is not buffered: the answer comes at once, and the connection closes.
    const chunked = await fetch(amp.url("/x/anything"), {
      method: "POST",
      body: new Blob(["y".repeat(4096)]).stream(),
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).toBe(404);
    expect(chunked.headers.get("connection")).toBe("close");
  });

  it("serves each solo folder under its prefix", async () => {
    for (const [name, prefix] of Object.entries(folders)) {
      const index = await fetch(amp.url(`/${prefix}/`));
      expect(index.status).toBe(200);
      expect(index.headers.get("content-type")).toContain("text/html");
      expect(await index.text()).toBe(`<h1>${name} at /${prefix}/</h1>`);
      const script = await fetch(amp.url(`/${prefix}/sub/app.js`));
      expect(await script.text()).toBe(`console.log("${name}")`);
    }
    expect((await fetch(amp.url("/e/missing.js"))).status).toBe(404);
  });

  it.each([
    "/e/../secret.txt",
    "/e/..%2fsecret.txt",
    "/e/%2e%2e/secret.txt",
    "/e/%2e%2e%2fsecret.txt",
    "/e/sub/..%5c..%5csecret.txt",
    "/x/rcm/../../secret.txt",
    "/e/%c0%ae%c0%ae/secret.txt",
  ])("refuses the traversal %s", async (path) => {
    const res = await rawGet(amp.http, path);
    expect([400, 404]).toContain(res.status);
    expect(res.body).not.toContain("outside every served folder");
    // Paths that normalise to "/secret.txt" reach the apps routes, which refuse ".." as an app name.
    expect(JSON.parse(res.body).error.code).toMatch(/^(not_found|bad_path|invalid_name)$/);
  });

  it("logs JSON lines with a GCP severity and never a token", async () => {
    await fetch(amp.url("/x/serverinfo?token=hunter2-token&keep=1"), {
      headers: { authorization: "Bearer hunter2-header" },
    });
    const line = await waitFor(() =>
      amp.logs.find((l) => l.message === "request" && String(l.url).startsWith("/x/serverinfo?")),
    );
    expect(line).toMatchObject({
      severity: "INFO",
      url: "/x/serverinfo?token=[redacted]&keep=1",
      status: 200,
    });
    expect(amp.stdout).not.toContain("hunter2");
  });
});

describe("the admin port", () => {
  it("serves Prometheus metrics with request counts, latencies and process figures", async () => {
    await fetch(amp.url("/x/health/live"));
    const res = await fetch(amp.adminUrl("/metrics"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toMatch(
      /amp_http_requests_total\{route="\/x\/health\/live",method="GET",status="200"\} [1-9]/,
    );
    expect(text).toMatch(/amp_http_request_duration_seconds_bucket\{le="0\.005",route="\/x\/health\/live"/);
    expect(text).toMatch(/amp_http_requests_total\{route="unmatched",method="GET",status="404"\}/);
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_heap_size_used_bytes");
  });

  it("is not the public port", async () => {
    expect((await fetch(amp.url("/metrics"))).status).toBe(404);
    expect((await fetch(amp.adminUrl("/x/serverinfo"))).status).toBe(404);
  });

  it("listens on loopback by default", () => {
    const listening = amp.logs.find((l) => l.message === "listening") as
      | { admin: { host: string } }
      | undefined;
    expect(listening?.admin.host).toBe("127.0.0.1");
  });

  it("binds every listener, the MQTT broker's too, to --host; with --port 0 the public URL has the bound port", async () => {
    const local = await new ServerProcess(["--host", "127.0.0.1"]).ready();
    try {
      const listening = local.logs.find((l) => l.message === "listening") as
        | (LogLine & { http: { host: string } })
        | undefined;
      const broker = local.logs.find((l) => l.message === "MQTT broker listening") as
        | (LogLine & { address: string })
        | undefined;
      expect(listening?.http.host).toBe("127.0.0.1");
      expect(broker?.address).toBe("127.0.0.1");

      // --port 0: the public URL, the tokens' issuer with it, comes from the bound port.
      const publicUrl = `http://localhost:${local.http}`;
      const info = await jsonBody<ServerInfo>(await fetch(local.url("/x/serverinfo")));
      expect(info.baseURL).toBe(publicUrl);
      const minted = await runBin(["token", "--user", "ops", "--database-dir", local.dataDir]);
      const token = minted.stdout.trim().split("\n").at(-1) ?? "";
      const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as {
        iss: string;
      };
      expect(claims.iss).toBe(publicUrl);
      const profile = await fetch(local.url("/x/profile"), { headers: { authorization: `Bearer ${token}` } });
      expect(profile.status).toBe(200);
    } finally {
      await local.dispose();
    }
  });

  it("refuses the debug routes without the admin credential", async () => {
    for (const path of ["/x/debug/profile?seconds=1", "/x/debug/heap"]) {
      const none = await fetch(amp.adminUrl(path));
      expect(none.status).toBe(401);
      expect(await errorCode(none)).toBe("unauthenticated");
      const wrong = await fetch(amp.adminUrl(path), {
        headers: { authorization: "Bearer not-the-credential-0000" },
      });
      expect(wrong.status).toBe(401);
    }
  });

  it("records a CPU profile on demand", async () => {
    const res = await fetch(amp.adminUrl("/x/debug/profile?seconds=1"), {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toMatch(/attachment; filename="amp-.*\.cpuprofile"/);
    const profile = await jsonBody<CpuProfile>(res);
    expect(profile.nodes.length).toBeGreaterThan(0);
    expect(profile.endTime - profile.startTime).toBeGreaterThanOrEqual(900_000); // microseconds
  });

  it("validates the profile length", async () => {
    const res = await fetch(amp.adminUrl("/x/debug/profile?seconds=100000"), {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("bad_request");
  });

  it("takes a heap snapshot on demand", async () => {
    const res = await fetch(amp.adminUrl("/x/debug/heap"), {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const snapshot = await jsonBody<HeapSnapshot>(res);
    expect(snapshot.snapshot.meta.node_fields).toContain("self_size");
    expect(snapshot.nodes.length).toBeGreaterThan(1000);
  });
});

describe("a start that fails", () => {
  it("exits 1 with one fatal line naming the component and the cause once, the cause as err, no password", async () => {
    const amp = new ServerProcess(["--database-url", "postgres://amp:pw-never-shown@127.0.0.1:1/amp"]);
    try {
      expect((await amp.exited).code).toBe(1);
      const fatal = amp.logs.filter((l) => l.severity === "CRITICAL");
      expect(fatal).toHaveLength(1);
      const cause = "cannot reach PostgreSQL at postgres://amp:***@127.0.0.1:1/amp (--database-url)";
      expect(fatal[0]!.message).toMatch(
        new RegExp(`^component database failed to start: ${escapeRegExp(cause)}`),
      );
      expect(fatal[0]!.message.split(cause)).toHaveLength(2);
      expect(fatal[0]!.err).toMatchObject({ type: "DatabaseStartupError", code: "database_unreachable" });
      expect(amp.stdout + amp.stderr).not.toContain("pw-never-shown");
    } finally {
      await amp.dispose();
    }
  });
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}
