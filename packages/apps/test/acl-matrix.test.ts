import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Apps, ROLES, type Role } from "../src/index.js";
import { root } from "./helpers.js";
import { startTestServer, type TestServer } from "./http-helpers.js";

/** One user per role, holding only that role on every app of this test. */
const holder = (role: Role) => `u_${role}`;
const RULE = Object.fromEntries(ROLES.map((r) => [r, [holder(r)]]));

interface Case {
  name: string;
  /** Roles that allow it; allowed_build allows everything on its app. */
  roles: readonly Role[];
  /** Builds the request; may create fixtures as root. Returns [method, path, body?]. */
  prepare(apps: Apps, n: number): Promise<[string, string, unknown?]>;
}

const READ: Role[] = ["allowed_read"];
const RUN: Role[] = ["allowed_read", "allowed_run"];
const CREATE: Role[] = ["allowed_create"];
const BUILD: Role[] = [];

async function doc(apps: Apps, n: number): Promise<string> {
  const id = `d${n}`;
  await (await apps.store(root, "m", ["allowed_build"])).write(
    [{ op: "upsert", doc: { _rmx_id: id, _rmx_type: "t" } }],
    "root",
  );
  return id;
}

let blobRef = "";
const CASES: Case[] = [
  { name: "GET /{app}", roles: READ, prepare: async () => ["GET", "/m"] },
  { name: "POST /{app}", roles: CREATE, prepare: async () => ["POST", "/m", { _rmx_type: "t" }] },
  {
    name: "PUT /{app}",
    roles: CREATE,
    prepare: async (a, n) => ["PUT", "/m", { _rmx_id: await doc(a, n), _rmx_type: "t", v: 1 }],
  },
  {
    name: "DELETE /{app}",
    roles: CREATE,
    prepare: async (a, n) => ["DELETE", "/m", { ids: [await doc(a, n)] }],
  },
  {
    name: "POST /{app}/documents",
    roles: CREATE,
    prepare: async () => ["POST", "/m/documents", { ops: [{ op: "insert", doc: { _rmx_type: "t" } }] }],
  },
  {
    name: "GET /{app}/documents/{id}.json",
    roles: READ,
    prepare: async (a, n) => ["GET", `/m/documents/${await doc(a, n)}.json`],
  },
  {
    name: "PUT /{app}/documents/{id}.json",
    roles: CREATE,
    prepare: async (_, n) => ["PUT", `/m/documents/p${n}.json`, { _rmx_type: "t" }],
  },
  {
    name: "DELETE /{app}/documents/{id}.json",
    roles: CREATE,
    prepare: async (a, n) => ["DELETE", `/m/documents/${await doc(a, n)}.json`],
  },
  {
    name: "POST /{app}/save",
    roles: CREATE,
    prepare: async () => ["POST", "/m/save", { document: { _rmx_type: "t" } }],
  },
  {
    name: "GET /{app}/query.json",
    roles: RUN,
    prepare: async () => ["GET", `/m/query.json?query=${encodeURIComponent('_rmx_type == "t"')}`],
  },
  {
    name: "POST /{app}/query",
    roles: RUN,
    prepare: async () => ["POST", "/m/query", { query: '_rmx_type == "t"' }],
  },
  { name: "GET /{app}/raw/{ref}", roles: RUN, prepare: async () => ["GET", `/m/raw/${blobRef}`] },
  { name: "GET /{app}/files", roles: READ, prepare: async () => ["GET", "/m/files"] },
  {
    name: "PUT /{app}/files/{name}",
    roles: CREATE,
    prepare: async (_, n) => ["PUT", `/m/files/f${n}.txt`, "hello"],
  },
  { name: "GET /{app}/files/{name}", roles: READ, prepare: async () => ["GET", "/m/files/private.txt"] },
  {
    name: "DELETE /{app}/files/{name}",
    roles: CREATE,
    prepare: async (a, n) => {
      await (await a.store(root, "m", ["allowed_build"])).files.put(
        `g${n}`,
        [Buffer.from("x")],
        "text/plain",
        "root",
      );
      return ["DELETE", `/m/files/g${n}`];
    },
  },
  { name: "GET /{app}/resources", roles: RUN, prepare: async () => ["GET", "/m/resources"] },
  { name: "GET /{app}/runtime.json", roles: RUN, prepare: async () => ["GET", "/m/runtime.json"] },
  { name: "GET /x/apps/{app}/acl", roles: BUILD, prepare: async () => ["GET", "/x/apps/m/acl"] },
  { name: "PUT /x/apps/{app}/acl", roles: BUILD, prepare: async () => ["PUT", "/x/apps/m/acl", RULE] },
  {
    name: "POST /x/apps/export",
    roles: BUILD,
    prepare: async () => ["POST", "/x/apps/export", { apps: { m: true } }],
  },
  {
    name: "DELETE /x/apps/{app}",
    roles: BUILD,
    prepare: async (a, n) => {
      await a.create(root, `del${n}`);
      await a.setRules(root, `del${n}`, RULE);
      return ["DELETE", `/x/apps/del${n}`];
    },
  },
];

describe("ACL matrix: every role × every route", () => {
  let s: TestServer;
  let n = 0;
  beforeAll(async () => {
    s = startTestServer();
    await s.apps.create(root, "m");
    await s.apps.setRules(root, "m", RULE);
    const store = await s.apps.store(root, "m", ["allowed_build"]);
    await store.setMeta("runtime.json", { appName: "m" });
    await store.files.put("private.txt", [Buffer.from("secret")], "text/plain", "root");
    blobRef = (await store.blobs.put([Buffer.from("blob")])).ref;
  });
  afterAll(() => s.close());

  const users = [...ROLES.map(holder), "outsider", "anon-7", "root"];
  for (const c of CASES) {
    for (const who of users) {
      const role = ROLES.find((r) => holder(r) === who);
      const allowed =
        who === "root" || role === "allowed_build" || (role !== undefined && c.roles.includes(role));
      const denial = role ? 403 : 404; // outsiders must not learn the app exists
      it(`${c.name} as ${who}: ${allowed ? "allow" : `deny ${denial}`}`, async () => {
        const [method, path, body] = await c.prepare(s.apps, n++);
        const res = await s.request(who, method, path, body);
        if (allowed) {
          expect(res.status, await res.clone().text()).toBeLessThan(300);
        } else {
          expect(res.status).toBe(denial);
          const err = (await res.json()) as { error: { code: string } };
          expect(err.error.code).toBe(denial === 403 ? "forbidden" : "not_found");
        }
        await res.arrayBuffer().catch(() => undefined);
      });
    }
  }

  it("an outsider gets the same answer for an existing and a missing app", async () => {
    const a = await s.request("outsider", "GET", "/m/query.json?query=x%20%3D%3D%201");
    const b = await s.request("outsider", "GET", "/nosuchapp/query.json?query=x%20%3D%3D%201");
    expect([a.status, await a.json()]).toEqual([b.status, await b.json()]);
  });

  it("creating apps needs allowed_create on the server rule; anon and _rmx_all_users principals work", async () => {
    expect((await s.request("u_allowed_build", "POST", "/x/apps", { name: "new1" })).status).toBe(403);
    await s.apps.setRules(root, "*", { allowed_create: ["_rmx_all_users"] });
    expect((await s.request("anon-3", "POST", "/x/apps", { name: "new1" })).status).toBe(403);
    expect((await s.request("carol", "POST", "/x/apps", { name: "new1" })).status).toBe(201);
    // carol built new1: she sees it listed, others do not.
    const list = async (who: string) =>
      ((await (await s.request(who, "GET", "/x/apps")).json()) as { name: string }[]).map((a) => a.name);
    expect(await list("carol")).toEqual(["new1"]);
    expect(await list("outsider")).toEqual([]);
    await s.apps.setRules(carolUser(), "new1", { allowed_read: ["anon-*"] });
    expect((await s.request("anon-9", "GET", "/new1")).status).toBe(200);
    expect((await s.request("anon-9", "POST", "/new1", { _rmx_type: "t" })).status).toBe(403);
    expect(s.apps.can({ id: "anon-9", anonymous: true, root: false }, "new1", "allowed_read")).toBe(true);
    expect(s.apps.can({ id: "dave", anonymous: false, root: false }, "new1", "allowed_read")).toBe(false);
    expect(s.apps.can(root, "nosuchapp", "allowed_read")).toBe(false);
  });
});

function carolUser() {
  return { id: "carol", anonymous: false, root: false };
}
