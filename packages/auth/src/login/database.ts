import { join } from "node:path";
import { LmdbRecords, type Records } from "@amp/records";

/**
 * The embedded store of plugin configurations and passkeys: LMDB in `<databaseDir>/auth-login`.
 * Several nodes use `PostgresRecords` (`@amp/records/postgres`) instead.
 */
export function openLoginRecords(databaseDir: string): Records {
  return new LmdbRecords(join(databaseDir, "auth-login"));
}
