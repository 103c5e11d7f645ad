import { createHash } from "node:crypto";
import type { Database, RootDatabase } from "lmdb";
import { AppsError } from "../errors.js";
import { BLOB_CHUNK, chunkStream } from "./chunk-stream.js";
import type { BlobInfo, BlobStore } from "./store.js";

/** The sha256 ref and total size of `parts`. */
export function blobRef(parts: readonly Uint8Array[]): BlobInfo {
  const hash = createHash("sha256");
  let size = 0;
  for (const p of parts) {
    hash.update(p);
    size += p.byteLength;
  }
  return { ref: hash.digest("hex"), size };
}

/** Content-addressed (sha256) raw data inside an app's LMDB environment. */
export class LmdbBlobStore implements BlobStore {
  private readonly chunks: Database<Buffer, [string, number]>;
  private readonly sizes: Database<number, string>;

  constructor(private readonly env: RootDatabase) {
    this.chunks = env.openDB({ name: "blob-chunks", encoding: "binary" });
    this.sizes = env.openDB({ name: "blobs", encoding: "msgpack" });
  }

  async put(parts: readonly Uint8Array[]): Promise<BlobInfo> {
    const { ref, size } = blobRef(parts);
    if (this.sizes.get(ref) !== undefined) return { ref, size };
    const whole = Buffer.concat(parts);
    await this.env.transaction(() => {
      for (let i = 0, n = 0; i < size || n === 0; i += BLOB_CHUNK, n++) {
        this.chunks.put([ref, n], whole.subarray(i, Math.min(size, i + BLOB_CHUNK)));
      }
      this.sizes.put(ref, size);
    });
    return { ref, size };
  }

  async info(ref: string): Promise<BlobInfo | undefined> {
    const size = this.sizes.get(ref);
    return size === undefined ? undefined : { ref, size };
  }

  async refs(): Promise<string[]> {
    return [...this.sizes.getKeys()];
  }

  stream(ref: string): ReadableStream<Uint8Array> {
    return chunkStream(
      () => this.sizes.get(ref) !== undefined,
      (n) => {
        const chunk = this.chunks.getBinary([ref, n]);
        return chunk === undefined ? undefined : new Uint8Array(chunk);
      },
      () => new AppsError("not_found", "no such blob"),
    );
  }

  async read(ref: string): Promise<Buffer> {
    const parts: Uint8Array[] = [];
    for await (const p of this.stream(ref)) parts.push(p);
    return Buffer.concat(parts);
  }
}
