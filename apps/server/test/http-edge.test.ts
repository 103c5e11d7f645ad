import { rawExchange, rawJsonBody } from "@amp/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type ComposedAmp, startComposed } from "./helpers/composed.js";
import type { OpenApiDocument } from "./helpers/json.js";

const exchange = (port: number, ...writes: (string | Buffer)[]) => rawExchange(port, writes);
const bodyOf = rawJsonBody;

describe("the composed server's HTTP edge", () => {
  let amp: ComposedAmp;
  let root: string;
  let port: number;

  beforeAll(async () => {
    amp = await startComposed();
    root = await amp.token("root");
    port = amp.server.addresses!.http.port;
    const res = await fetch(amp.url("/x/apps"), {
      method: "POST",
      headers: { authorization: `Bearer ${root}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "shop" }),
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await amp?.close();
  });

  it("lets a .remix import past the global body limit: the route's own limit (256 MiB) holds", async () => {
    // 20 MiB: more than --body-limit's default 16 MiB, less than the import's 256 MiB.
    const res = await fetch(amp.url("/x/apps/import"), {
      method: "POST",
      headers: { authorization: `Bearer ${root}`, "content-type": "application/zip" },
      body: Buffer.alloc(20 * 1024 * 1024),
    });
    expect(res.status).not.toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("bad_archive");
  });

  it("keeps a keep-alive connection usable after a 401 or 404 in front of a 300 KB body", async () => {
    const body = Buffer.alloc(300_000, 0x61);
    for (const head of [
      "POST /x/apps HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n",
      `PUT /nope/files/a.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${root}\r\n`,
    ]) {
      const out = await exchange(
        port,
        `${head}Content-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\n\r\n`,
        body,
        "GET /x/health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      );
      expect(out).toMatch(/^HTTP\/1.1 40[14] /);
      // The second request on the same connection is answered.
      expect(out).toMatch(/HTTP\/1.1 200 OK[\s\S]*"status":"ok"/);
    }
  });

  it("answers a track message without a content type 415, not 500", async () => {
    const res = await fetch(amp.url("/shop/track/msg_session_list"), {
      method: "POST",
      headers: { authorization: `Bearer ${root}` },
      body: "{}",
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unsupported_media_type");
  });

  it("answers Node's parser refusals (431, 400) in the JSON envelope", async () => {
    const big = await exchange(
      port,
      `GET /x/health/ready HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`,
    );
    expect(big).toMatch(/^HTTP\/1.1 431 /);
    expect(bodyOf(big)).toEqual({
      error: { code: "headers_too_large", message: "request headers too large" },
    });
    const bad = await exchange(port, "THIS IS NOT HTTP\r\n\r\n");
    expect(bad).toMatch(/^HTTP\/1.1 400 /);
    expect(bodyOf(bad)).toMatchObject({ error: { code: "bad_request" } });
  });

  it("refuses a WebSocket frame past 1 MiB in bytes before reading it (close 1009)", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/shop/track.ws?token=${root}`);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.on("error", () => undefined);
    // 1,000,000 "€": under 1 MiB in UTF-16 units, 3 MB in bytes.
    ws.send(JSON.stringify({ _rmx_type: "msg_session_list", x: "€".repeat(1_000_000) }));
    expect(await closed).toBe(1009);
  });

  it("describes every route's errors with the one Error schema", async () => {
    const doc = (await (await fetch(amp.url("/x/openapi.json"))).json()) as OpenApiDocument & {
      components?: { schemas?: Record<string, unknown> };
    };
    const schemas = Object.keys(doc.components?.schemas ?? {});
    expect(schemas).toContain("Error");
    for (const old of ["AppsError", "AuthError", "LoginError", "SecretsError", "TrackHttpError"])
      expect(schemas).not.toContain(old);
    const paths = doc.paths as Record<string, Record<string, { responses?: Record<string, unknown> }>>;
    let described = 0;
    for (const [path, operations] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const [status, response] of Object.entries(operation.responses ?? {})) {
          if (Number(status) < 400) continue;
          const content = (response as { content?: Record<string, { schema?: { $ref?: string } }> }).content;
          expect(content?.["application/json"]?.schema?.$ref, `${method} ${path} ${status}`).toBe(
            "#/components/schemas/Error",
          );
          described++;
        }
      }
    }
    expect(described).toBeGreaterThan(50);
  });
});
