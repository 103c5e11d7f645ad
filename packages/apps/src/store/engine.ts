import type { MixMap } from "@amp/codec";
import type { DocumentStore } from "./store.js";

/**
 * Where the registry and the apps' stores live: LMDB files under a directory, or PostgreSQL.
 * `Apps` holds the rules (ACL, names, building then registering); an engine holds the bytes.
 */
export interface StorageEngine {
  /** The registry's system stores: `_rmx_admin` (one ACL rule per app) and `_rmx_meta` (app metadata). */
  readonly admin: DocumentStore;
  readonly meta: DocumentStore;
  /** A registered app's store. */
  openStore(app: string, indexedFields: readonly string[]): Promise<DocumentStore>;
  /** Storage for an app being built (create, import): invisible to `openStore` until `commitBuild`. */
  beginBuild(app: string, indexedFields: readonly string[]): Promise<AppBuild>;
  /** Makes the build the app's storage; `conflict` if the app has storage already. */
  commitBuild(build: AppBuild): Promise<void>;
  discardBuild(build: AppBuild): Promise<void>;
  /** Removes the app's storage (its store already closed). */
  dropApp(app: string): Promise<void>;
  /** Removes storage that no registry entry names (left by a crash between build and register). */
  removeOrphans(registered: (app: string) => boolean): Promise<void>;
  close(): Promise<void>;
}

export interface AppBuild {
  readonly app: string;
  readonly store: DocumentStore;
}

/** An engine with the registry's documents read, ready for `Apps`. */
export interface OpenedEngine {
  readonly engine: StorageEngine;
  readonly admin: readonly MixMap[];
  readonly meta: readonly MixMap[];
}
