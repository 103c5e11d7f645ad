import { beforeAll, describe, expect, it } from "vitest";
import { ENGINES, useEngine } from "./engines.js";
import { root } from "./helpers.js";
import { serveApps, type TestServer } from "./http-helpers.js";

const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;

describe.each(ENGINES)("bad input: typed 4xx, nothing changed (real %s)", (engineName) => {
  const engine = useEngine(engineName);
  let s: TestServer;
  const state = async () => {
    const store = await s.apps.store(root, "m", ["allowed_build"]);
    return {
      seq: await store.currentSeq(),
      count: await store.count(),
      apps: s.apps.list(root).length,
      files: (await store.files.list()).length,
    };
  };
  beforeAll(async () => {
    s = serveApps(
      await engine.apps(),
      { limits: { maxJsonBytes: 64 * 1024, maxFileBytes: 1024 } },
      async () => {},
    ); // the engine closes the registry
    await s.apps.create(root, "m");
    await (await s.apps.store(root, "m", ["allowed_build"])).write(
      [{ op: "insert", doc: { _rmx_id: "x", _rmx_type: "t" } }],
      "root",
    );
  });

  const json = { "content-type": "application/json" };
  const cases: [string, string, string, unknown, Record<string, string>, number, string][] = [
    [
      "body over the limit",
      "POST",
      "/m",
      JSON.stringify({ _rmx_type: "t", big: "x".repeat(70_000) }),
      json,
      413,
      "too_large",
    ],
    ["invalid JSON", "POST", "/m", '{"_rmx_type": "t",', json, 400, "bad_request"],
    ["JSON that is not a document", "POST", "/m", "42", json, 400, "bad_request"],
    ["document without _rmx_type", "POST", "/m", JSON.stringify({ a: 1 }), json, 400, "invalid_document"],
    [
      "wrong type for _rmx_id",
      "POST",
      "/m",
      JSON.stringify({ _rmx_type: "t", _rmx_id: 5 }),
      json,
      400,
      "invalid_document",
    ],
    [
      "wrong types in a batch",
      "POST",
      "/m/documents",
      JSON.stringify({ ops: [{ op: "explode" }] }),
      json,
      400,
      "bad_request",
    ],
    ["wrong type for an app name", "POST", "/x/apps", JSON.stringify({ name: 5 }), json, 400, "bad_request"],
    ["unknown app", "GET", "/nope/documents/x.json", undefined, {}, 404, "not_found"],
    ["app name with /", "GET", "/a%2Fb/documents/x.json", undefined, {}, 400, "invalid_name"],
    ["app name with ..", "GET", "/a..b/documents/x.json", undefined, {}, 400, "invalid_name"],
    [
      "app name with a control character",
      "GET",
      "/m%01/documents/x.json",
      undefined,
      {},
      400,
      "invalid_name",
    ],
    [
      "creating an app named ..",
      "POST",
      "/x/apps",
      JSON.stringify({ name: ".." }),
      json,
      400,
      "invalid_name",
    ],
    [
      "creating an app named with /",
      "POST",
      "/x/apps",
      JSON.stringify({ name: "a/b" }),
      json,
      400,
      "invalid_name",
    ],
    [
      "id with /",
      "PUT",
      "/m/documents/a%2Fb.json",
      JSON.stringify({ _rmx_type: "t" }),
      json,
      400,
      "invalid_name",
    ],
    ["id ..", "PUT", "/m/documents/...json", JSON.stringify({ _rmx_type: "t" }), json, 400, "invalid_name"],
    [
      "id with a control character",
      "PUT",
      "/m/documents/a%0Ab.json",
      JSON.stringify({ _rmx_type: "t" }),
      json,
      400,
      "invalid_name",
    ],
    [
      "_rmx_id with /",
      "POST",
      "/m",
      JSON.stringify({ _rmx_type: "t", _rmx_id: "../x" }),
      json,
      400,
      "invalid_name",
    ],
    ["file name with a control character", "PUT", "/m/files/a%07b", "data", {}, 400, "invalid_name"],
    ["file over the limit", "PUT", "/m/files/big", "x".repeat(2000), {}, 413, "too_large"],
    [
      "100 KB query string",
      "GET",
      `/m/query.json?query=${"a".repeat(100_000)}`,
      undefined,
      {},
      400,
      "bad_query",
    ],
    [
      "query syntax error",
      "GET",
      `/m/query.json?query=${encodeURIComponent("a == ")}`,
      undefined,
      {},
      400,
      "query_syntax",
    ],
    [
      "invalid query AST",
      "POST",
      "/m/query",
      JSON.stringify({ ast: { filter: { op: "~~" } } }),
      json,
      400,
      "query_invalid_ast",
    ],
    [
      "deeply nested document",
      "POST",
      "/m",
      `{"_rmx_type":"t","x":${deepObject(200)}}`,
      json,
      400,
      "invalid_document",
    ],
    [
      "very deeply nested JSON",
      "POST",
      "/m",
      `{"_rmx_type":"t","x":${deepObject(10_000)}}`,
      json,
      400,
      "invalid_document",
    ],
    ["blob ref that is not a digest", "GET", "/m/raw/..%2F..%2Fetc", undefined, {}, 400, "invalid_name"],
    [
      "stale revision",
      "PUT",
      "/m",
      JSON.stringify({
        _rmx_id: "x",
        _rmx_type: "t",
        _rmx_rev: { _rmx_type: "{tag}ref", _rmx_value: "old" },
      }),
      json,
      409,
      "conflict",
    ],
  ];
  for (const [name, method, path, body, headers, status, code] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const before = state();
      const res = await s.request("root", method, path, body as string | undefined, headers);
      expect(res.status).toBe(status);
      const answer = (await res.json()) as { error: { code: string; message: string } };
      expect(answer.error.code).toBe(code);
      expect(answer.error.message).not.toMatch(/\n\s+at /); // never a stack
      expect(state()).toEqual(before);
    });
  }

  it("a query syntax error says where and what was expected", async () => {
    const res = await s.request(
      "root",
      "GET",
      `/m/query.json?query=${encodeURIComponent('a == "x" &&\n  (b > ')}`,
    );
    const { error } = (await res.json()) as { error: { message: string } };
    expect(error.message).toMatch(/2/);
  });
});
