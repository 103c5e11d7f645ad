import { join } from "node:path";
import { afterAll } from "vitest";
import {
  Apps,
  type AppsOptions,
  type DocumentLimits,
  type DocumentStore,
  LmdbDocumentStore,
} from "../src/index.js";
import { silentLogger, tempDir } from "./helpers.js";

/** The engines every conformance suite runs on. */
export const ENGINES = ["lmdb"] as const;
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
    name,
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
