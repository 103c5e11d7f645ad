import { mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { AppsError } from "../errors.js";
import type { DocumentLimits } from "./document.js";
import type { AppBuild, OpenedEngine, StorageEngine } from "./engine.js";
import { LmdbDocumentStore, type QueryOptions } from "./lmdb-document-store.js";
import { QueryThread } from "./query-thread.js";

export interface LmdbEngineOptions {
  /** The database directory: the system stores and one LMDB environment per app live under it. */
  readonly dir: string;
  readonly logger: Logger;
  readonly documentLimits?: Partial<DocumentLimits>;
  readonly query?: Omit<QueryOptions, "thread">;
}

/**
 * The embedded engine: `<dir>/_rmx_admin`, `<dir>/_rmx_meta` and `<dir>/apps/<name>`, each its
 * own LMDB environment. An app is built under `<dir>/tmp` and renamed into place, so a
 * half-built app is never visible. Synchronous, so `new Apps(...)` stays synchronous.
 */
export function openLmdbEngine(options: LmdbEngineOptions): OpenedEngine {
  const engine = new LmdbEngine(options);
  return {
    engine,
    admin: [...engine.admin.reader.allDocuments()],
    meta: [...engine.meta.reader.allDocuments()],
  };
}

class LmdbEngine implements StorageEngine {
  readonly admin: LmdbDocumentStore;
  readonly meta: LmdbDocumentStore;
  private readonly queryThread: QueryThread;
  private readonly queryOptions: QueryOptions;

  constructor(private readonly options: LmdbEngineOptions) {
    this.queryThread = new QueryThread(options.logger);
    this.queryOptions = { ...options.query, thread: this.queryThread };
    mkdirSync(join(options.dir, "apps"), { recursive: true });
    rmSync(this.tmpDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true });
    this.admin = new LmdbDocumentStore({
      path: join(options.dir, "_rmx_admin"),
      app: "_rmx_admin",
      logger: options.logger,
    });
    this.meta = new LmdbDocumentStore({
      path: join(options.dir, "_rmx_meta"),
      app: "_rmx_meta",
      logger: options.logger,
    });
  }

  /** Scratch space for building an app before it is registered (emptied at start). */
  private get tmpDir(): string {
    return join(this.options.dir, "tmp");
  }

  private appDir(app: string): string {
    return join(this.options.dir, "apps", app);
  }

  async openStore(app: string, indexedFields: readonly string[]): Promise<LmdbDocumentStore> {
    return this.storeAt(this.appDir(app), app, indexedFields);
  }

  private storeAt(path: string, app: string, indexedFields: readonly string[]): LmdbDocumentStore {
    return new LmdbDocumentStore({
      path,
      app,
      indexedFields,
      logger: this.options.logger,
      limits: this.options.documentLimits,
      query: this.queryOptions,
    });
  }

  async beginBuild(app: string, indexedFields: readonly string[]): Promise<LmdbBuild> {
    const dir = join(
      this.tmpDir,
      `build-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    );
    mkdirSync(dir, { recursive: true });
    return { app, dir, store: this.storeAt(dir, app, indexedFields) };
  }

  async commitBuild(build: AppBuild): Promise<void> {
    const { dir } = build as LmdbBuild;
    await build.store.close();
    try {
      renameSync(dir, this.appDir(build.app));
    } catch {
      rmSync(dir, { recursive: true, force: true });
      throw new AppsError("conflict", `app ${build.app} exists`);
    }
  }

  async discardBuild(build: AppBuild): Promise<void> {
    await build.store.close();
    rmSync((build as LmdbBuild).dir, { recursive: true, force: true });
  }

  async dropApp(app: string): Promise<void> {
    rmSync(this.appDir(app), { recursive: true, force: true });
  }

  async removeOrphans(registered: (app: string) => boolean): Promise<void> {
    for (const name of readdirSync(join(this.options.dir, "apps"))) {
      if (!registered(name)) {
        this.options.logger.warn({ app: name }, "removing unregistered app directory");
        rmSync(this.appDir(name), { recursive: true, force: true });
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.admin.close(), this.meta.close()]);
    await this.queryThread.close();
  }
}

interface LmdbBuild extends AppBuild {
  readonly dir: string;
}
