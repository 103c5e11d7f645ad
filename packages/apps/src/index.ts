export { type AclRule, ALL_USERS, ANONYMOUS, ROLES, type Role, SERVER_RULE } from "./acl/roles.js";
export type { ActingUser } from "./acl/user.js";
export { type AppInfo, Apps, type AppsOpenOptions, type AppsOptions, type CreateAppOptions } from "./apps.js";
export {
  AppsError,
  type AppsErrorCode,
  type DatabaseStartupCode,
  DatabaseStartupError,
  DatabaseUnavailableError,
  QueryTooCostlyError,
  UnsupportedRemixVersionError,
} from "./errors.js";
export * from "./query/index.js";
export { type ExportManifest, type ExportOptions, exportRemix } from "./remix/export.js";
export {
  customSection,
  FFI_REPORT_META,
  type FfiReport,
  ffiReport,
  type ImportedAppInfo,
  type KnownFfis,
} from "./remix/ffi-report.js";
export { checkFormatVersion, type ImportOptions, importRemix } from "./remix/import.js";
export { REMIX_FORMAT_VERSION } from "./remix/layout.js";
export {
  type ArchiveLimits,
  type ArchiveProgress,
  DEFAULT_ARCHIVE_LIMITS,
  type ProgressCallback,
} from "./remix/limits.js";
export type { ChangeEvent, ChangeListener, DocumentChange } from "./store/change-feed.js";
export { DEFAULT_DOCUMENT_LIMITS, type DocumentLimits } from "./store/document.js";
export type { AppBuild, StorageEngine } from "./store/engine.js";
export {
  DEFAULT_INLINE_BUDGET,
  LmdbDocumentStore,
  type LmdbStoreOptions,
  type QueryOptions,
} from "./store/lmdb-document-store.js";
export { MIGRATIONS, SCHEMA_VERSION } from "./store/postgres/migrations.js";
export {
  DEFAULT_MAX_EXAMINED,
  runStoreQuery,
  type StoreQueryResult,
  type StoreReader,
} from "./store/query-executor.js";
export { QueryThread } from "./store/query-thread.js";
export type {
  BlobInfo,
  BlobStore,
  DocumentStore,
  FileEntry,
  FileStore,
  WriteOp,
  WriteResult,
} from "./store/store.js";
