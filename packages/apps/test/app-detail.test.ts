import { readFileSync } from "node:fs";
import { join } from "node:path";
import { remixArtifactsFor } from "@amp/test-support";
import { beforeAll, describe, expect, it } from "vitest";
import { ROLES } from "../src/index.js";
import { ENGINES, useEngine } from "./engines.js";
import { root } from "./helpers.js";
import { serveApps, type TestServer } from "./http-helpers.js";

interface AppDetail {
  name: string;
  roles: string[];
  ffiReport: { ffis: string[]; unansweredFfis?: string[] } | null;
}

const artifacts = remixArtifactsFor("GET /x/apps/{app} on tim-wasm.remix");
/** A server that answers one of tim-wasm's FFIs (amp passes `trackFfiCatalog()`). */
const known = { answered: ["$outputWithVersion"] };

describe.each(ENGINES)(
  "GET /x/apps/{app}: the caller's roles and the kept FFI report (real %s)",
  (engineName) => {
    const engine = useEngine(engineName);
    let s: TestServer;
    const detail = async (user: string, app: string) => {
      const res = await s.request(user, "GET", `/x/apps/${app}`);
      return { status: res.status, body: (await res.json()) as AppDetail & { error?: { code: string } } };
    };

    beforeAll(async () => {
      s = serveApps(await engine.apps(), { ffis: known }, async () => {}); // the engine closes the registry
      await s.apps.create(root, "plain");
      await s.apps.setRules(root, "plain", {
        allowed_read: ["reader"],
        allowed_create: ["writer"],
        allowed_build: ["builder"],
      });
    });

    it("answers each user's own roles: root and a builder all, others what the rule grants", async () => {
      expect((await detail("root", "plain")).body.roles).toEqual([...ROLES]);
      expect((await detail("builder", "plain")).body.roles).toEqual([...ROLES]);
      expect((await detail("writer", "plain")).body.roles).toEqual(["allowed_create"]);
      expect((await detail("reader", "plain")).body).toMatchObject({
        name: "plain",
        roles: ["allowed_read"],
        ffiReport: null, // created empty: no code, so no report
      });
    });

    it("refuses who holds no role (404, as for an app they cannot know of) and bad names (400)", async () => {
      const stranger = await detail("stranger", "plain");
      expect(stranger.status).toBe(404);
      expect(stranger.body.error?.code).toBe("not_found");
      expect((await detail("anon-1", "plain")).status).toBe(404);
      expect((await detail("root", "no_such_app")).status).toBe(404);
      for (const bad of ["a%2Fb", "..%2Fb", "x".repeat(101)])
        expect((await detail("root", bad)).status, bad).toBe(400);
      // A bare `..` is resolved by the router before any route sees it: no app is named.
      expect((await s.request("root", "GET", "/x/apps/..")).status).toBe(404);
    });

    it.skipIf(!artifacts)(
      "keeps tim-wasm.remix's FFI report from its import and answers it later",
      async () => {
        const archive = new Uint8Array(readFileSync(join(artifacts!.samples, "tim-wasm.remix")));
        const imported = await s.request("root", "POST", "/x/apps/import", archive, {
          "content-type": "application/zip",
        });
        expect(imported.status).toBe(201);
        const [info] = (await imported.json()) as { name: string; unansweredFfis: string[] }[];
        const { status, body } = await detail("root", info!.name);
        expect(status).toBe(200);
        const report = body.ffiReport!;
        expect(report.ffis).toEqual(expect.arrayContaining(["$outputWithVersion", "$wasm_load"]));
        expect(report.unansweredFfis).toEqual(report.ffis.filter((f) => f !== "$outputWithVersion"));
        expect(report.unansweredFfis).toEqual(info!.unansweredFfis);
      },
    );
  },
);
