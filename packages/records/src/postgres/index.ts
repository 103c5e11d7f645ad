export {
  checkDatabaseUrl,
  isUnavailable,
  PostgresDatabase,
  type PostgresDatabaseOptions,
  type Query,
  redactedUrl,
  unavailableOr,
} from "./database.js";
export { type Migration, migrate, migrateOn } from "./migrations.js";
export { PostgresRecords } from "./postgres-records.js";
