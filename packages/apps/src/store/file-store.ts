import type { Database, RootDatabase } from "lmdb";
import { AppsError } from "../errors.js";
import { checkItemName } from "../names.js";
import type { BlobStore, FileEntry, FileStore } from "./store.js";

/** File names pointing at blobs, in an app's LMDB environment. */
export class LmdbFileStore implements FileStore {
  private readonly table: Database<FileEntry, string>;

  constructor(
    private readonly env: RootDatabase,
    private readonly blobs: BlobStore,
  ) {
    this.table = env.openDB({ name: "files", encoding: "msgpack" });
  }

  async put(
    name: string,
    parts: readonly Uint8Array[],
    contentType: string,
    actor: string,
    isPublic = false,
  ): Promise<FileEntry> {
    const entry = await fileEntry(this.blobs, name, parts, contentType, actor, isPublic);
    await this.env.transaction(() => this.table.put(name, entry));
    return entry;
  }

  async get(name: string): Promise<FileEntry | undefined> {
    return this.table.get(checkItemName(name, "file name"));
  }

  async list(): Promise<FileEntry[]> {
    return [...this.table.getRange()].map((e) => e.value);
  }

  async delete(name: string): Promise<void> {
    if (!(await this.get(name))) throw new AppsError("not_found", `no file ${name}`);
    await this.table.remove(name);
  }
}

/** Checks the name, stores the parts as a blob and answers the entry that will point `name` at it. */
export async function fileEntry(
  blobs: BlobStore,
  name: string,
  parts: readonly Uint8Array[],
  contentType: string,
  actor: string,
  isPublic: boolean,
): Promise<FileEntry> {
  checkItemName(name, "file name");
  const blob = await blobs.put(parts);
  return {
    name,
    ref: blob.ref,
    size: blob.size,
    contentType,
    public: isPublic,
    modifiedAt: new Date().toISOString(),
    modifiedBy: actor,
  };
}
