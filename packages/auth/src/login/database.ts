import { join } from "node:path";
import { open, type RootDatabase } from "lmdb";

/** Opens (creating) the LMDB environment for plugin configurations and passkeys in the database dir. */
export function openLoginDatabase(databaseDir: string): RootDatabase {
  return open({ path: join(databaseDir, "auth-login"), maxDbs: 8 });
}
