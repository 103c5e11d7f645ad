import { AppsError } from "../../errors.js";
import { checkItemName } from "../../names.js";
import { fileEntry } from "../file-store.js";
import type { BlobStore, FileEntry, FileStore } from "../store.js";
import type { Database } from "./database.js";

/** File names pointing at blobs, one row per file. */
export class PostgresFileStore implements FileStore {
  constructor(
    private readonly db: Database,
    private readonly store: number,
    private readonly blobs: BlobStore,
  ) {}

  async put(
    name: string,
    parts: readonly Uint8Array[],
    contentType: string,
    actor: string,
    isPublic = false,
  ): Promise<FileEntry> {
    const entry = await fileEntry(this.blobs, name, parts, contentType, actor, isPublic);
    await this.db.query(
      "INSERT INTO amp_files (store, name, entry) VALUES ($1, $2, $3) ON CONFLICT (store, name) DO UPDATE SET entry = EXCLUDED.entry",
      [this.store, name, JSON.stringify(entry)],
    );
    return entry;
  }

  async get(name: string): Promise<FileEntry | undefined> {
    const [row] = await this.db.query<{ entry: FileEntry }>(
      "SELECT entry FROM amp_files WHERE store = $1 AND name = $2",
      [this.store, checkItemName(name, "file name")],
    );
    return row?.entry;
  }

  async list(): Promise<FileEntry[]> {
    const rows = await this.db.query<{ entry: FileEntry }>(
      "SELECT entry FROM amp_files WHERE store = $1 ORDER BY name",
      [this.store],
    );
    return rows.map((r) => r.entry);
  }

  async delete(name: string): Promise<void> {
    const rows = await this.db.query("DELETE FROM amp_files WHERE store = $1 AND name = $2 RETURNING name", [
      this.store,
      checkItemName(name, "file name"),
    ]);
    if (rows.length === 0) throw new AppsError("not_found", `no file ${name}`);
  }
}
