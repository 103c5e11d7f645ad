import { join } from "node:path";
import type { MixMap } from "@amp/codec";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Expr,
  LmdbDocumentStore,
  type ProjectionField,
  parse,
  type Query,
  QueryThread,
  QueryTooCostlyError,
  runStoreQuery,
  type StoreQueryResult,
} from "../src/index.js";
import { root, silentLogger, tempDir } from "./helpers.js";
import { startTestServer, type TestServer } from "./http-helpers.js";
import { exprArb, queryArb, storedDocsArb } from "./query/arbitraries.js";

const FIELDS = ["a", "c.d"];

const docsArb = storedDocsArb({ maxLength: 30, mixedB: true });

const pathArb = fc.constantFrom<string[]>(["a"], ["b"], ["c", "d"], ["_rmx_type"], ["_rmx_id"]);
const termArb: fc.Arbitrary<Expr> = fc.oneof(
  fc.record({ op: fc.constant("==" as const), path: pathArb, value: fc.constantFrom(1, 2, "a", "x", true) }),
  fc.record({
    op: fc.constantFrom("<" as const, ">=" as const),
    path: pathArb,
    value: fc.constantFrom(0, 2, "a", "b"),
  }),
  fc.record({ op: fc.constant("startsWith" as const), path: pathArb, value: fc.constantFrom("", "a") }),
  exprArb,
);
/** Queries on the documents' fields (so that they match, sort and page), and arbitrary ones. */
const storeQueryArb: fc.Arbitrary<Query> = fc.oneof(
  fc.record(
    {
      filter: fc
        .tuple(termArb, fc.option(termArb, { nil: undefined }))
        .map(([x, y]): Expr => (y ? { op: "and", args: [x, y] } : x)),
      sort: fc.array(fc.record({ path: pathArb, order: fc.constantFrom("asc" as const, "desc" as const) }), {
        minLength: 1,
        maxLength: 2,
      }),
      project: fc.constant<ProjectionField[]>([{ path: ["a"] }, { path: ["c", "d"], as: "d" }]),
      offset: fc.nat({ max: 3 }),
      limit: fc.nat({ max: 6 }),
    },
    { requiredKeys: ["filter"], noNullPrototype: true },
  ),
  queryArb,
);

type Outcome = { ok: StoreQueryResult } | { error: { name: string; code: unknown; message: string } };
async function outcome(run: () => StoreQueryResult | Promise<StoreQueryResult>): Promise<Outcome> {
  try {
    return { ok: await run() };
  } catch (e) {
    const err = e as Error & { code?: unknown };
    return { error: { name: err.constructor.name, code: err.code, message: err.message } };
  }
}

/** Counts the queries that went to the worker. */
class CountingThread extends QueryThread {
  runs = 0;
  override run(...args: Parameters<QueryThread["run"]>): ReturnType<QueryThread["run"]> {
    this.runs++;
    return super.run(...args);
  }
}

describe("queries on the query thread give the inline executor's results (real LMDB)", () => {
  const dir = tempDir();
  const thread = new CountingThread(silentLogger);
  let n = 0;
  afterAll(async () => {
    await thread.close();
    dir.remove();
  });

  it("equal documents, cursors, plans and errors for random documents and queries, and the next page", async () => {
    let offloaded = 0;
    await fc.assert(
      fc.asyncProperty(
        docsArb,
        fc.array(storeQueryArb, { minLength: 1, maxLength: 6 }),
        async (docs, queries) => {
          // inlineBudget 0: every query that would examine a document goes to the worker.
          const store = new LmdbDocumentStore({
            path: join(dir.path, String(n++)),
            app: "q",
            logger: silentLogger,
            indexedFields: FIELDS,
            query: { thread, inlineBudget: 0 },
          });
          try {
            const ops = docs.map((d, i) => ({
              op: "insert" as const,
              doc: { ...(d as MixMap), _rmx_id: `d${i}` },
            }));
            if (ops.length > 0) await store.write(ops, "u");
            for (const query of queries) {
              const expected = await outcome(() => runStoreQuery(store.reader, query));
              const actual = await outcome(() => store.query(query));
              expect(actual).toEqual(expected);
              if ("ok" in actual && actual.ok.documents.length > 0) offloaded++;
              if ("ok" in expected && expected.ok.next !== undefined) {
                const page2 = { ...query, after: expected.ok.next };
                expect(await outcome(() => store.query(page2))).toEqual(
                  await outcome(() => runStoreQuery(store.reader, page2)),
                );
              }
            }
          } finally {
            await store.close();
          }
        },
      ),
      // The example guarantees a query that returns documents, whatever the seed.
      {
        numRuns: 40,
        examples: [
          [
            [
              { _rmx_type: "note", a: 1 },
              { _rmx_type: "task", a: 2, c: { d: "a" } },
            ],
            [{ filter: { op: ">=", path: ["a"], value: 0 } }],
          ],
        ],
      },
    );
    expect(offloaded).toBeGreaterThan(0);
    expect(thread.runs).toBeGreaterThan(10);
  });

  it("sees every write committed before the query, and a store reopened at the same path afresh", async () => {
    const path = join(dir.path, "fresh");
    const open = () =>
      new LmdbDocumentStore({ path, app: "f", logger: silentLogger, query: { thread, inlineBudget: 0 } });
    let store = open();
    const all = parse("| sort n");
    for (let i = 0; i < 5; i++) {
      await store.write([{ op: "insert", doc: { _rmx_type: "t", n: i } }], "u");
      expect((await store.query(all)).documents.map((d) => d.n)).toEqual([...Array(i + 1).keys()]);
    }
    await store.close();
    const { rmSync } = await import("node:fs");
    rmSync(path, { recursive: true, force: true });
    store = open();
    await store.write([{ op: "insert", doc: { _rmx_type: "t", n: 99 } }], "u");
    expect((await store.query(all)).documents.map((d) => d.n)).toEqual([99]);
    await store.close();
  });

  it("a cursor made for another query is refused the same way on both paths", async () => {
    const store = new LmdbDocumentStore({
      path: join(dir.path, "cursor"),
      app: "c",
      logger: silentLogger,
      query: { thread, inlineBudget: 0 },
    });
    await store.write(
      Array.from({ length: 10 }, (_, i) => ({ op: "insert" as const, doc: { _rmx_type: "t", a: i, b: -i } })),
      "u",
    );
    const first = await store.query(parse("| sort a | limit 3"));
    expect(first.next).toBeDefined();
    const other = { ...parse("| sort b | limit 3"), after: first.next! };
    const inline = await outcome(() => runStoreQuery(store.reader, other));
    expect(inline).toMatchObject({ error: { code: "query_cursor" } });
    expect(await outcome(() => store.query(other))).toEqual(inline);
    await store.close();
  });
});

describe("the cost limit", () => {
  const dir = tempDir();
  const thread = new QueryThread(silentLogger);
  let store: LmdbDocumentStore;
  const docs = Array.from({ length: 120 }, (_, i) => ({
    _rmx_type: i < 100 ? "note" : "task",
    category: `c${i % 12}`,
    status: i % 2 === 0 ? "open" : "done",
    meta: { owner: `u${i % 3}` },
  }));
  beforeAll(async () => {
    store = new LmdbDocumentStore({
      path: join(dir.path, "cost"),
      app: "cost",
      logger: silentLogger,
      indexedFields: ["category"],
      query: { thread, maxExamined: 50, inlineBudget: 10 },
    });
    await store.write(
      docs.map((doc) => ({ op: "insert" as const, doc })),
      "u",
    );
  });
  afterAll(async () => {
    await store.close();
    await thread.close();
    dir.remove();
  });

  it("refuses a scan past maxExamined with a typed error naming the field to index", async () => {
    const refusal = store.query(parse('status == "open"'));
    await expect(refusal).rejects.toBeInstanceOf(QueryTooCostlyError);
    await expect(refusal).rejects.toMatchObject({
      code: "query_too_costly",
      status: 422,
      fields: ["status"],
      limit: 50,
      message: expect.stringContaining("add an index on `status`"),
    });
    // The inline path refuses the same way.
    expect(() => runStoreQuery(store.reader, parse('status == "open"'))).toThrow(/add an index on `status`/);
    await expect(store.query(parse('status == "open" || meta.owner == "u1"'))).rejects.toThrow(
      "add an index on one of `status`, `meta.owner`",
    );
    await expect(store.query(parse("| limit 1"))).rejects.toThrow("it has no filter");
  });

  it("refuses an index plan whose range holds too many documents, naming the residual's field", async () => {
    await expect(store.query(parse('_rmx_type == "note" && status == "open"'))).rejects.toMatchObject({
      code: "query_too_costly",
      fields: ["status"],
      message: expect.stringMatching(/through the index on `_rmx_type`.*add an index on `status`/),
    });
  });

  it("answers the same filter through an index", async () => {
    const r = await store.query(parse('category == "c3" && status == "done" | sort _rmx_id'));
    expect(r.plan).toBe("index:category");
    expect(r.documents).toHaveLength(10);
    expect(r.documents.every((d) => d.status === "done" && d.category === "c3")).toBe(true);
    expect(runStoreQuery(store.reader, parse('category == "c3" && status == "done"')).documents).toHaveLength(
      10,
    );
  });

  it("is configurable: a higher limit lets the scan run", async () => {
    const wide = new LmdbDocumentStore({
      path: join(dir.path, "cost"),
      app: "cost",
      logger: silentLogger,
      indexedFields: ["category"],
      query: { thread, maxExamined: 1000, inlineBudget: 10 },
    });
    try {
      const r = await wide.query(parse('status == "open"'));
      expect(r.plan).toBe("scan");
      expect(r.documents).toHaveLength(60);
    } finally {
      await wide.close();
    }
  });
});

describe("the cost limit over HTTP, set as an Apps option", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = startTestServer({}, { query: { maxExamined: 20 } });
    await s.apps.create(root, "big", { indexedFields: ["category"] });
    await (await s.apps.store(root, "big", ["allowed_build"])).write(
      Array.from({ length: 30 }, (_, i) => ({
        op: "insert" as const,
        doc: { _rmx_type: "t", category: `c${i % 3}`, status: i % 2 === 0 ? "open" : "done" },
      })),
      "root",
    );
  });
  afterAll(() => s.close());

  it("answers 422 query_too_costly naming the field, and the indexed query 200", async () => {
    const refused = await s.request(
      "root",
      "GET",
      `/big/query.json?query=${encodeURIComponent('status == "open"')}`,
    );
    expect(refused.status).toBe(422);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("query_too_costly");
    expect(body.error.message).toContain("add an index on `status`");
    const ok = await s.request(
      "root",
      "GET",
      `/big/query.json?query=${encodeURIComponent('category == "c1"')}`,
    );
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as unknown[]).length).toBe(10);
    await expect(s.apps.query(root, "big", 'status == "open"')).rejects.toBeInstanceOf(QueryTooCostlyError);
  });
});
