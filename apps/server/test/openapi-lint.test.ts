import { createConfig, lintFromString } from "@redocly/openapi-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ComposedAmp, startComposed } from "./helpers/composed.js";
import type { OpenApiDocument } from "./helpers/json.js";

/**
 * `/x/openapi.json` is what the console's typed client and other clients are generated from:
 * it must pass redocly's recommended rules (the lint operators run on API descriptions).
 */
describe("/x/openapi.json", () => {
  let amp: ComposedAmp;
  let text: string;

  beforeAll(async () => {
    amp = await startComposed({ proxyRemotes: { docs: "https://docs.example.com" } });
    text = await (await fetch(amp.url("/x/openapi.json"))).text();
  });
  afterAll(() => amp?.close());

  it("passes redocly's recommended rules: no error, and warnings only where a route has no such answer", async () => {
    const config = await createConfig({ extends: ["recommended"] });
    const problems = await lintFromString({ source: text, config });
    const errors = problems.filter((p) => p.severity === "error");
    expect(errors.map((p) => `${p.ruleId} ${p.location[0]?.pointer}`)).toEqual([]);
    // Probes and discovery have no 4xx answer; a login's start and callback answer with a
    // redirect and a WebSocket with 101, not a 2xx: those two rules may warn about them, nothing else.
    const warnings = problems
      .filter((p) => p.severity === "warn")
      .map((p) => `${p.ruleId} ${p.location[0]?.pointer?.replace(/\/responses$/, "")}`);
    for (const warning of warnings) {
      expect(warning).toMatch(
        /^(operation-4xx-response #\/paths\/~1x~1(health~1(live|ready)|serverinfo|jwks\.json)\/get|operation-2xx-response #\/paths\/~1x~1auth~1\{handler\}(~1callback)?\/(get|post)|operation-2xx-response #\/paths\/(~1\{app\}~1track\.ws|~1x~1broker\.ws)\/get)$/,
      );
    }
  });

  it("has a bearer JWT scheme, an operationId on every operation, and the WebSocket and module routes", () => {
    const doc = JSON.parse(text) as OpenApiDocument & {
      components: {
        securitySchemes: Record<string, { type: string; scheme?: string; bearerFormat?: string }>;
      };
      paths: Record<string, Record<string, { operationId?: string; security?: unknown[] }>>;
    };
    expect(doc.components.securitySchemes.bearer).toMatchObject({
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
    });
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(ids.every((id) => typeof id === "string" && /^[A-Za-z0-9]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const path of [
      "/{app}/track.ws",
      "/x/broker.ws",
      "/{app}/webhooks/{id}",
      "/{app}/agents/{module}",
      "/{app}/lambda/{module}",
      "/{app}/proxy/{remote}/{path}",
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(doc.paths["/x/health/live"]?.get?.security).toEqual([]);
  });
});
