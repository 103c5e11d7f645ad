import { mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { MixMap } from "@amp/codec";
import type { Logger } from "pino";
import { type AclRule, ROLES, type Role, ruleAllows, ruleKnows, SERVER_RULE } from "./acl/roles.js";
import type { ActingUser } from "./acl/user.js";
import { AppsError } from "./errors.js";
import { checkAppName } from "./names.js";
import { parse, type Query } from "./query/index.js";
import type { ChangeListener } from "./store/change-feed.js";
import type { DocumentLimits } from "./store/document.js";
import { DocumentStore, type QueryOptions } from "./store/document-store.js";
import type { StoreQueryResult } from "./store/query-executor.js";
import { QueryThread } from "./store/query-thread.js";

/** Most apps whose access facts are cached at once (unknown names are cached too). */
const ACCESS_CACHE_SIZE = 10_000;

export interface AppsOptions {
  /** The database directory: system stores and one LMDB environment per app live under it. */
  readonly dir: string;
  readonly logger: Logger;
  /** Limits applied to every stored document. */
  readonly documentLimits?: Partial<DocumentLimits>;
  /**
   * Query execution in every app: `maxExamined` (most documents one query may examine,
   * default 100 000; past it `query_too_costly`) and `inlineBudget` (queries examining at
   * most this many run on the event loop, default 256; bigger ones on the query worker).
   */
  readonly query?: Omit<QueryOptions, "thread">;
}

/** What `_rmx_meta` records about an app. */
export interface AppInfo {
  readonly name: string;
  readonly displayName: string;
  readonly indexedFields: readonly string[];
  readonly createdAt: string;
  readonly createdBy: string;
}

export interface CreateAppOptions {
  readonly displayName?: string;
  /** Fields to index besides `_rmx_type`. */
  readonly indexedFields?: readonly string[];
}

/**
 * The app registry: the system stores `_rmx_admin` (ACL rules, one document
 * per app) and `_rmx_meta` (app metadata), and one `DocumentStore` per app in
 * `<dir>/apps/<name>`. Every call takes the acting user and denies by default.
 *
 * Outsiders cannot learn which apps exist: a user holding no role on an app
 * gets `not_found` for it, exactly as for an app that does not exist; a user
 * holding some role but not the one needed gets `forbidden`.
 */
export class Apps {
  readonly logger: Logger;
  private readonly dir: string;
  private readonly admin: DocumentStore;
  private readonly meta: DocumentStore;
  private readonly stores = new Map<string, DocumentStore>();
  private readonly documentLimits: Partial<DocumentLimits> | undefined;
  private readonly queryOptions: QueryOptions;
  private readonly queryThread: QueryThread;
  private readonly accessCache = new Map<string, { exists: boolean; rule: AclRule | undefined }>();
  private accessStamp = "";

  constructor(options: AppsOptions) {
    this.dir = options.dir;
    this.logger = options.logger;
    this.documentLimits = options.documentLimits;
    this.queryThread = new QueryThread(options.logger);
    this.queryOptions = { ...options.query, thread: this.queryThread };
    mkdirSync(join(this.dir, "apps"), { recursive: true });
    rmSync(this.tmpDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true });
    this.admin = new DocumentStore({
      path: join(this.dir, "_rmx_admin"),
      app: "_rmx_admin",
      logger: this.logger,
    });
    this.meta = new DocumentStore({
      path: join(this.dir, "_rmx_meta"),
      app: "_rmx_meta",
      logger: this.logger,
    });
    this.removeOrphans();
  }

  /** Scratch space for building an app before it is registered (emptied at start). */
  get tmpDir(): string {
    return join(this.dir, "tmp");
  }

  /** The library call the broker and track use: may `user` act as `role` on `app`? */
  can(user: ActingUser, app: string, role: Role): boolean {
    return this.exists(app) && ruleAllows(this.rule(app), role, user);
  }

  /** Throws `not_found` (user knows nothing of the app) or `forbidden` unless `user` holds one of `roles`. */
  authorize(user: ActingUser, app: string, roles: readonly Role[]): void {
    checkAppName(app);
    const { exists, rule } = this.access(app);
    if (!exists || !ruleKnows(rule, user)) throw new AppsError("not_found", "no such app");
    if (!roles.some((role) => ruleAllows(rule, role, user))) {
      throw new AppsError("forbidden", `this needs ${roles.join(" or ")} on the app`);
    }
  }

  /** The app's store, after checking that `user` holds one of `roles`. */
  store(user: ActingUser, app: string, roles: readonly Role[]): DocumentStore {
    this.authorize(user, app, roles);
    return this.openStore(app);
  }

  /** Runs a query (string or AST) for `user`, who needs `allowed_read` or `allowed_run`. */
  async query(user: ActingUser, app: string, query: Query | string): Promise<StoreQueryResult> {
    const store = this.store(user, app, ["allowed_read", "allowed_run"]);
    return store.query(typeof query === "string" ? parse(query) : query);
  }

  /** Subscribes `user` (who needs `allowed_read` or `allowed_run`) to the app's committed changes. */
  subscribe(user: ActingUser, app: string, listener: ChangeListener): () => void {
    return this.store(user, app, ["allowed_read", "allowed_run"]).subscribe(listener);
  }

  /** Apps on which the user holds any role (root: all). */
  list(user: ActingUser): AppInfo[] {
    return [...this.meta.allDocuments()]
      .map(toAppInfo)
      .filter((info) => ruleKnows(this.rule(info.name), user));
  }

  info(user: ActingUser, app: string): AppInfo {
    this.authorize(user, app, ROLES);
    return toAppInfo(this.meta.get(app)!);
  }

  mayCreateApps(user: ActingUser): boolean {
    return ruleAllows(this.rule(SERVER_RULE), "allowed_create", user);
  }

  /** Creates an empty app; its creator becomes its builder. */
  async create(user: ActingUser, name: string, options: CreateAppOptions = {}): Promise<AppInfo> {
    this.checkMayCreate(user, name);
    const building = this.newBuildDir();
    const store = this.openStoreAt(building, name, options.indexedFields ?? []);
    await store.close();
    return this.register(user, name, building, options);
  }

  /**
   * Moves an app environment built under `tmpDir` into place and registers it.
   * Used by create and by `.remix` import, so a half-built app is never visible.
   */
  async register(
    user: ActingUser,
    name: string,
    builtDir: string,
    options: CreateAppOptions,
  ): Promise<AppInfo> {
    this.checkMayCreate(user, name);
    try {
      renameSync(builtDir, this.appDir(name));
    } catch {
      rmSync(builtDir, { recursive: true, force: true });
      throw new AppsError("conflict", `app ${name} exists`);
    }
    const rule: MixMap = { _rmx_id: name, _rmx_type: "acl", allowed_build: [user.id] };
    await this.admin.write([{ op: "upsert", doc: rule }], user.id);
    const info: MixMap = {
      _rmx_id: name,
      _rmx_type: "app",
      name,
      displayName: options.displayName ?? name,
      indexedFields: [...(options.indexedFields ?? [])],
    };
    const [stored] = (await this.meta.write([{ op: "insert", doc: info }], user.id)).results;
    this.logger.info({ app: name, user: user.id }, "app created");
    return toAppInfo(stored!);
  }

  async delete(user: ActingUser, name: string): Promise<void> {
    this.authorize(user, name, ["allowed_build"]);
    await this.meta.write([{ op: "delete", id: name }], user.id);
    await this.admin.write([{ op: "delete", id: name }], user.id);
    const store = this.stores.get(name);
    this.stores.delete(name);
    await store?.close();
    rmSync(this.appDir(name), { recursive: true, force: true });
    this.logger.info({ app: name, user: user.id }, "app deleted");
  }

  /** The app's ACL rule. Needs `allowed_build`. */
  rules(user: ActingUser, app: string): AclRule {
    this.authorize(user, app, ["allowed_build"]);
    const stored = this.rule(app) ?? {};
    const rule: Partial<Record<Role, readonly string[]>> = {};
    for (const role of ROLES) if (stored[role]) rule[role] = [...stored[role]];
    return rule;
  }

  /** Replaces the app's ACL rule (or the server rule `*`, root only). Needs `allowed_build`. */
  async setRules(user: ActingUser, app: string, rule: AclRule): Promise<void> {
    if (app === SERVER_RULE) {
      if (!user.root) throw new AppsError("forbidden", "only root sets the server rule");
    } else {
      this.authorize(user, app, ["allowed_build"]);
    }
    const doc: MixMap = { _rmx_id: app, _rmx_type: "acl" };
    for (const role of ROLES) if (rule[role]) doc[role] = [...rule[role]];
    await this.admin.write([{ op: "upsert", doc }], user.id);
  }

  /** Declares the app's indexed fields (besides `_rmx_type`) and rebuilds its indexes. Needs `allowed_build`. */
  async setIndexedFields(user: ActingUser, app: string, fields: readonly string[]): Promise<void> {
    const store = this.store(user, app, ["allowed_build"]);
    store.setIndexedFields(fields);
    const doc = { ...this.meta.get(app)!, indexedFields: [...fields] };
    await this.meta.write([{ op: "update", doc }], user.id);
  }

  /** A fresh directory under `tmpDir` to build an app environment in. */
  newBuildDir(): string {
    const dir = join(
      this.tmpDir,
      `build-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    );
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Opens a store outside the registry (for building an app before `register`). */
  openStoreAt(path: string, app: string, indexedFields: readonly string[]): DocumentStore {
    return new DocumentStore({
      path,
      app,
      indexedFields,
      logger: this.logger,
      limits: this.documentLimits,
      query: this.queryOptions,
    });
  }

  async close(): Promise<void> {
    const stores = [...this.stores.values()];
    this.stores.clear();
    await Promise.all([...stores.map((s) => s.close()), this.admin.close(), this.meta.close()]);
    await this.queryThread.close();
  }

  private checkMayCreate(user: ActingUser, name: string): void {
    checkAppName(name);
    if (!this.mayCreateApps(user)) throw new AppsError("forbidden", "you may not create apps");
    if (this.exists(name)) throw new AppsError("conflict", `app ${name} exists`);
  }

  private exists(app: string): boolean {
    return this.access(app).exists;
  }

  private rule(app: string): AclRule | undefined {
    return this.access(app).rule;
  }

  /**
   * Whether the app exists and its rule, cached: every request asks, and the
   * answer changes only when `_rmx_admin` or `_rmx_meta` commit a write, which
   * moves their change sequences and empties the cache.
   */
  private access(app: string): { exists: boolean; rule: AclRule | undefined } {
    const stamp = `${this.admin.seq}:${this.meta.seq}`;
    if (stamp !== this.accessStamp) {
      this.accessCache.clear();
      this.accessStamp = stamp;
    }
    let entry = this.accessCache.get(app);
    if (!entry) {
      entry = { exists: this.meta.get(app) !== undefined, rule: this.admin.get(app) as AclRule | undefined };
      if (this.accessCache.size >= ACCESS_CACHE_SIZE) this.accessCache.clear();
      this.accessCache.set(app, entry);
    }
    return entry;
  }

  private appDir(app: string): string {
    return join(this.dir, "apps", app);
  }

  private openStore(app: string): DocumentStore {
    let store = this.stores.get(app);
    if (!store) {
      const info = toAppInfo(this.meta.get(app)!);
      store = this.openStoreAt(this.appDir(app), app, info.indexedFields);
      this.stores.set(app, store);
    }
    return store;
  }

  /** App directories without a registry entry are leftovers of a crash between rename and register. */
  private removeOrphans(): void {
    for (const name of readdirSync(join(this.dir, "apps"))) {
      if (!this.exists(name)) {
        this.logger.warn({ app: name }, "removing unregistered app directory");
        rmSync(this.appDir(name), { recursive: true, force: true });
      }
    }
  }
}

function toAppInfo(doc: MixMap): AppInfo {
  return {
    name: doc.name as string,
    displayName: doc.displayName as string,
    indexedFields: (doc.indexedFields as string[] | undefined) ?? [],
    createdAt: doc._rmx_created_at as string,
    createdBy: doc._rmx_created_by as string,
  };
}
