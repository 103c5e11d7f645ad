import type { MixMap } from "@amp/codec";
import type { PostgresDatabase } from "@amp/records/postgres";
import type { Logger } from "pino";
import { type AclRule, ROLES, type Role, ruleAllows, ruleKnows, SERVER_RULE } from "./acl/roles.js";
import type { ActingUser } from "./acl/user.js";
import { AppsError } from "./errors.js";
import { checkAppName } from "./names.js";
import { parse, type Query } from "./query/index.js";
import type { ChangeEvent, ChangeListener } from "./store/change-feed.js";
import type { DocumentLimits } from "./store/document.js";
import type { AppBuild, OpenedEngine, StorageEngine } from "./store/engine.js";
import type { QueryOptions } from "./store/lmdb-document-store.js";
import { openLmdbEngine } from "./store/lmdb-engine.js";
import { openPostgresEngine } from "./store/postgres/engine.js";
import type { StoreQueryResult } from "./store/query-executor.js";
import type { DocumentStore } from "./store/store.js";

export interface AppsOptions {
  /** The database directory (LMDB engine): system stores and one LMDB environment per app live under it. */
  readonly dir: string;
  readonly logger: Logger;
  /** Limits applied to every stored document. */
  readonly documentLimits?: Partial<DocumentLimits>;
  /**
   * Query execution in every app: `maxExamined` (most documents one query may examine,
   * default 100 000; past it `query_too_costly`) and `inlineBudget` (LMDB: queries examining
   * at most this many run on the event loop, default 256; bigger ones on the query worker;
   * PostgreSQL: scans of more documents decode and filter their pages on the query worker).
   */
  readonly query?: Omit<QueryOptions, "thread">;
}

/** `Apps.open`: LMDB under `dir`, or PostgreSQL when `databaseUrl` is given (then `dir` is not used). */
export interface AppsOpenOptions extends Omit<AppsOptions, "dir"> {
  readonly dir?: string;
  /** `postgres://…`: the registry and every app's store live in this database instead of `dir`. */
  readonly databaseUrl?: string;
  /** PostgreSQL connections this process may hold (default 10). */
  readonly poolSize?: number;
  /** The node's database on `databaseUrl`, shared with its other components (the caller closes it). */
  readonly database?: PostgresDatabase;
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
 * The app registry: the system stores `_rmx_admin` (ACL rules, one document per app) and
 * `_rmx_meta` (app metadata), and one `DocumentStore` per app, on a `StorageEngine` (LMDB
 * files or PostgreSQL). Every call takes the acting user and denies by default.
 *
 * The registry is small and asked on every request, so it is held in memory: read whole at
 * start, then kept current by the system stores' change feeds (on PostgreSQL these carry
 * other nodes' writes through LISTEN/NOTIFY). `can`, `authorize`, `list`, `info` and `rules`
 * therefore stay synchronous on both engines.
 *
 * Outsiders cannot learn which apps exist: a user holding no role on an app
 * gets `not_found` for it, exactly as for an app that does not exist; a user
 * holding some role but not the one needed gets `forbidden`.
 */
export class Apps {
  readonly logger: Logger;
  private readonly engine: StorageEngine;
  private readonly stores = new Map<string, Promise<DocumentStore>>();
  /** `_rmx_meta` documents by app name. */
  private readonly infos = new Map<string, MixMap>();
  /** `_rmx_admin` rules by app name (and `*`). */
  private readonly acl = new Map<string, AclRule>();
  private readonly unsubscribe: (() => void)[];

  /** The embedded registry: LMDB under `options.dir` (synchronous; `Apps.open` picks an engine). */
  constructor(options: AppsOptions, opened: OpenedEngine = openLmdbEngine(options)) {
    this.logger = options.logger;
    this.engine = opened.engine;
    for (const doc of opened.meta) this.infos.set(doc._rmx_id as string, doc);
    for (const doc of opened.admin) this.acl.set(doc._rmx_id as string, doc as AclRule);
    this.unsubscribe = [
      this.engine.meta.subscribe((e) => this.onMetaChange(e)),
      this.engine.admin.subscribe((e) => {
        for (const c of e.changes) {
          if (c.op === "put") this.acl.set(c.id, c.doc as AclRule);
          else this.acl.delete(c.id);
        }
      }),
    ];
    // LMDB removes them at once; PostgreSQL only storage older than any build still under way.
    this.engine
      .removeOrphans((app) => this.infos.has(app))
      .catch((err: unknown) => this.logger.error({ err }, "removing orphaned app storage failed"));
  }

  /** The registry on PostgreSQL when `databaseUrl` is set (migrating its schema first), else on LMDB in `dir`. */
  static async open(options: AppsOpenOptions): Promise<Apps> {
    if (options.databaseUrl === undefined) {
      if (options.dir === undefined)
        throw new AppsError("bad_request", "Apps.open needs a dir or a databaseUrl");
      return new Apps({ ...options, dir: options.dir });
    }
    const opened = await openPostgresEngine({
      url: options.databaseUrl,
      logger: options.logger,
      documentLimits: options.documentLimits,
      maxExamined: options.query?.maxExamined,
      inlineBudget: options.query?.inlineBudget,
      poolSize: options.poolSize,
      database: options.database,
    });
    return new Apps({ ...options, dir: "" }, opened);
  }

  /** The library call the broker and track use: may `user` act as `role` on `app`? */
  can(user: ActingUser, app: string, role: Role): boolean {
    return this.infos.has(app) && ruleAllows(this.acl.get(app), role, user);
  }

  /** Throws `not_found` (user knows nothing of the app) or `forbidden` unless `user` holds one of `roles`. */
  authorize(user: ActingUser, app: string, roles: readonly Role[]): void {
    checkAppName(app);
    const rule = this.acl.get(app);
    if (!this.infos.has(app) || !ruleKnows(rule, user)) throw new AppsError("not_found", "no such app");
    if (!roles.some((role) => ruleAllows(rule, role, user))) {
      throw new AppsError("forbidden", `this needs ${roles.join(" or ")} on the app`);
    }
  }

  /** The app's store, after checking that `user` holds one of `roles`. */
  async store(user: ActingUser, app: string, roles: readonly Role[]): Promise<DocumentStore> {
    this.authorize(user, app, roles);
    return this.openStore(app);
  }

  /** Runs a query (string or AST) for `user`, who needs `allowed_read` or `allowed_run`. */
  async query(user: ActingUser, app: string, query: Query | string): Promise<StoreQueryResult> {
    const store = await this.store(user, app, ["allowed_read", "allowed_run"]);
    return store.query(typeof query === "string" ? parse(query) : query);
  }

  /** Subscribes `user` (who needs `allowed_read` or `allowed_run`) to the app's committed changes. */
  async subscribe(user: ActingUser, app: string, listener: ChangeListener): Promise<() => void> {
    return (await this.store(user, app, ["allowed_read", "allowed_run"])).subscribe(listener);
  }

  /** Apps on which the user holds any role (root: all), in name order. */
  list(user: ActingUser): AppInfo[] {
    return [...this.infos.keys()]
      .sort()
      .filter((name) => ruleKnows(this.acl.get(name), user))
      .map((name) => toAppInfo(this.infos.get(name)!));
  }

  info(user: ActingUser, app: string): AppInfo {
    this.authorize(user, app, ROLES);
    return toAppInfo(this.infos.get(app)!);
  }

  mayCreateApps(user: ActingUser): boolean {
    return ruleAllows(this.acl.get(SERVER_RULE), "allowed_create", user);
  }

  /** Creates an empty app; its creator becomes its builder. */
  async create(user: ActingUser, name: string, options: CreateAppOptions = {}): Promise<AppInfo> {
    this.checkMayCreate(user, name);
    const build = await this.beginBuild(name, options.indexedFields ?? []);
    return this.register(user, build, options);
  }

  /**
   * Storage for an app that `register` makes visible (or `discardBuild` drops): create and
   * `.remix` import fill it first, so a half-built app is never visible.
   */
  async beginBuild(name: string, indexedFields: readonly string[] = []): Promise<AppBuild> {
    checkAppName(name);
    return this.engine.beginBuild(name, indexedFields);
  }

  async discardBuild(build: AppBuild): Promise<void> {
    await this.engine.discardBuild(build);
  }

  /** Registers a built app; its creator becomes its builder. The build is consumed either way. */
  async register(user: ActingUser, build: AppBuild, options: CreateAppOptions): Promise<AppInfo> {
    const name = build.app;
    try {
      this.checkMayCreate(user, name);
    } catch (err) {
      await this.engine.discardBuild(build);
      throw err;
    }
    await this.engine.commitBuild(build);
    const rule: MixMap = { _rmx_id: name, _rmx_type: "acl", allowed_build: [user.id] };
    await this.engine.admin.write([{ op: "upsert", doc: rule }], user.id);
    const info: MixMap = {
      _rmx_id: name,
      _rmx_type: "app",
      name,
      displayName: options.displayName ?? name,
      indexedFields: [...(options.indexedFields ?? [])],
    };
    const [stored] = (await this.engine.meta.write([{ op: "insert", doc: info }], user.id)).results;
    this.logger.info({ app: name, user: user.id }, "app created");
    return toAppInfo(stored!);
  }

  async delete(user: ActingUser, name: string): Promise<void> {
    this.authorize(user, name, ["allowed_build"]);
    await this.engine.meta.write([{ op: "delete", id: name }], user.id);
    await this.engine.admin.write([{ op: "delete", id: name }], user.id);
    await this.closeStore(name);
    await this.engine.dropApp(name);
    this.logger.info({ app: name, user: user.id }, "app deleted");
  }

  /** The app's ACL rule. Needs `allowed_build`. */
  rules(user: ActingUser, app: string): AclRule {
    this.authorize(user, app, ["allowed_build"]);
    const stored = this.acl.get(app) ?? {};
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
    await this.engine.admin.write([{ op: "upsert", doc }], user.id);
  }

  /** Declares the app's indexed fields (besides `_rmx_type`) and rebuilds its indexes. Needs `allowed_build`. */
  async setIndexedFields(user: ActingUser, app: string, fields: readonly string[]): Promise<void> {
    const store = await this.store(user, app, ["allowed_build"]);
    await store.setIndexedFields(fields);
    const doc = { ...this.infos.get(app)!, indexedFields: [...fields] };
    await this.engine.meta.write([{ op: "update", doc }], user.id);
  }

  async close(): Promise<void> {
    for (const off of this.unsubscribe) off();
    const stores = [...this.stores.values()];
    this.stores.clear();
    await Promise.all(stores.map(async (s) => (await s.catch(() => undefined))?.close()));
    await this.engine.close();
  }

  private checkMayCreate(user: ActingUser, name: string): void {
    checkAppName(name);
    if (!this.mayCreateApps(user)) throw new AppsError("forbidden", "you may not create apps");
    if (this.infos.has(name)) throw new AppsError("conflict", `app ${name} exists`);
  }

  /**
   * Keeps the app metadata current. An app deleted (possibly by another node), or whose indexed
   * fields changed, loses its open store: the next request opens it afresh.
   */
  private onMetaChange(event: ChangeEvent): void {
    for (const c of event.changes) {
      const before = this.infos.get(c.id);
      if (c.op === "put") this.infos.set(c.id, c.doc);
      else this.infos.delete(c.id);
      const fieldsMoved =
        c.op === "put" &&
        before !== undefined &&
        JSON.stringify(before.indexedFields) !== JSON.stringify(c.doc.indexedFields);
      if (c.op === "delete" || fieldsMoved) void this.closeStore(c.id);
    }
  }

  private async closeStore(app: string): Promise<void> {
    const store = this.stores.get(app);
    this.stores.delete(app);
    await (await store?.catch(() => undefined))?.close();
  }

  private openStore(app: string): Promise<DocumentStore> {
    let store = this.stores.get(app);
    if (!store) {
      const opening = this.engine.openStore(app, toAppInfo(this.infos.get(app)!).indexedFields);
      store = opening;
      this.stores.set(app, opening);
      opening.catch(() => {
        if (this.stores.get(app) === opening) this.stores.delete(app);
      });
    }
    return store;
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
