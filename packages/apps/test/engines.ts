import { join } from "node:path";
import { startPostgres, type TestPostgres } from "@amp/test-support";
import { afterAll, beforeAll } from "vitest";
import {
  Apps,
  type AppsOptions,
  type DocumentLimits,
  type DocumentStore,
  LmdbDocumentStore,
  type StorageEngine,
} from "../src/index.js";
import { openPostgresEngine } from "../src/store/postgres/engine.js";
import { silentLogger, tempDir } from "./helpers.js";

/** The engines every conformance suite runs on. */
export const ENGINES = ["lmdb", "postgres"] as const;
export type EngineName = (typeof ENGINES)[number];

export interface StoreOptions {
  readonly indexedFields?: readonly string[];
  readonly limits?: Partial<DocumentLimits>;
  readonly maxExamined?: number;
}

/** One engine for one test file: fresh storage per store and per registry. */
export interface TestEngine {
  readonly name: EngineName;
  /** A new, empty store of its own. */
  store(options?: StoreOptions): Promise<DocumentStore>;
  /** Closes `store` and opens its storage again, as a restarted process would. */
  reopen(store: DocumentStore, options?: StoreOptions): Promise<DocumentStore>;
  /** A new, empty registry. */
  apps(options?: Partial<Omit<AppsOptions, "dir" | "logger">>): Promise<Apps>;
}

/** Registers the file's hooks and answers the engine (usable inside tests, after `beforeAll`). */
export function useEngine(name: EngineName): TestEngine {
  return name === "lmdb" ? lmdbEngine() : postgresEngine();
}

function lmdbEngine(): TestEngine {
  const dir = tempDir();
  const cleanup: (() => Promise<void>)[] = [];
  let n = 0;
  afterAll(async () => {
    for (const close of cleanup.reverse()) await close().catch(() => {});
    dir.remove();
  });
  const lmdbStore = (path: string, options: StoreOptions = {}) => {
    const store = new LmdbDocumentStore({
      path,
      app: "a",
      logger: silentLogger,
      indexedFields: options.indexedFields,
      limits: options.limits,
      query: options.maxExamined === undefined ? undefined : { maxExamined: options.maxExamined },
    });
    cleanup.push(() => store.close());
    return store;
  };
  const paths = new WeakMap<DocumentStore, string>();
  return {
    name: "lmdb",
    async store(options) {
      const path = join(dir.path, `s${n++}`);
      const store = lmdbStore(path, options);
      paths.set(store, path);
      return store;
    },
    async reopen(store, options) {
      await store.close();
      const path = paths.get(store)!;
      const again = lmdbStore(path, options);
      paths.set(again, path);
      return again;
    },
    async apps(options = {}) {
      const apps = new Apps({ ...options, dir: join(dir.path, `r${n++}`), logger: silentLogger });
      cleanup.push(() => apps.close());
      return apps;
    },
  };
}

/**
 * One PostgreSQL server per suite (a `describe.each` block: most test files have one); its
 * stores live in one database (each store a fresh app), each registry in a database of its own.
 */
function postgresEngine(): TestEngine {
  let server: TestPostgres;
  let storesUrl: string;
  const cleanup: (() => Promise<void>)[] = [];
  const engines = new Map<string, StorageEngine>();
  let n = 0;
  beforeAll(async () => {
    server = await startPostgres();
    storesUrl = await server.createDatabase("stores");
  }, 60_000);
  afterAll(async () => {
    for (const close of cleanup.reverse()) await close().catch(() => {});
    await server?.stop();
  });
  /** An engine per distinct store options (limits and maxExamined are the engine's). */
  const engineFor = async (options: StoreOptions = {}, fresh = false) => {
    const key = JSON.stringify([options.limits ?? {}, options.maxExamined ?? null]);
    let engine = fresh ? undefined : engines.get(key);
    if (!engine) {
      const opened = await openPostgresEngine({
        url: storesUrl,
        logger: silentLogger,
        documentLimits: options.limits,
        maxExamined: options.maxExamined,
      });
      engine = opened.engine;
      if (!fresh) engines.set(key, engine);
      const closing = engine;
      cleanup.push(() => closing.close());
    }
    return engine;
  };
  return {
    name: "postgres",
    async store(options = {}) {
      const engine = await engineFor(options);
      const app = `s${n++}`;
      const build = await engine.beginBuild(app, options.indexedFields ?? []);
      await engine.commitBuild(build);
      return engine.openStore(app, options.indexedFields ?? []);
    },
    async reopen(store, options = {}) {
      await store.close();
      // A new engine: new connections, nothing cached, as a restarted process.
      return (await engineFor(options, true)).openStore(store.app, options.indexedFields ?? []);
    },
    async apps(options = {}) {
      const url = await server.createDatabase(`registry${n++}`);
      const apps = await Apps.open({ ...options, databaseUrl: url, logger: silentLogger });
      cleanup.push(() => apps.close());
      return apps;
    },
  };
}
