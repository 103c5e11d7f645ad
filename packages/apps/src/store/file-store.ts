import type { Database, RootDatabase } from "lmdb";
import { AppsError } from "../errors.js";
import { checkItemName } from "../names.js";
import type { BlobStore } from "./blob-store.js";

/** A user file: a name pointing at a blob, with the content type it was uploaded with. */
export interface FileEntry {
  readonly name: string;
  readonly ref: string;
  readonly size: number;
  readonly contentType: string;
  /** Public files (from an imported app's resources) are readable by anyone who may run the app. */
  readonly public: boolean;
  readonly modifiedAt: string;
  readonly modifiedBy: string;
}

export class FileStore {
  private readonly table: Database<FileEntry, string>;

  constructor(
    private readonly env: RootDatabase,
    private readonly blobs: BlobStore,
  ) {
    this.table = env.openDB({ name: "files", encoding: "msgpack" });
  }

  /** Stores the parts as a blob and points `name` at it. */
  async put(
    name: string,
    parts: readonly Uint8Array[],
    contentType: string,
    actor: string,
    isPublic = false,
  ): Promise<FileEntry> {
    checkItemName(name, "file name");
    const blob = await this.blobs.put(parts);
    const entry: FileEntry = {
      name,
      ref: blob.ref,
      size: blob.size,
      contentType,
      public: isPublic,
      modifiedAt: new Date().toISOString(),
      modifiedBy: actor,
    };
    await this.env.transaction(() => this.table.put(name, entry));
    return entry;
  }

  get(name: string): FileEntry | undefined {
    return this.table.get(checkItemName(name, "file name"));
  }

  list(): FileEntry[] {
    return [...this.table.getRange()].map((e) => e.value);
  }

  async delete(name: string): Promise<void> {
    if (!this.get(name)) throw new AppsError("not_found", `no file ${name}`);
    await this.table.remove(name);
  }
}
