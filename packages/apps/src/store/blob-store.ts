import { createHash } from "node:crypto";
import type { Database, RootDatabase } from "lmdb";
import { AppsError } from "../errors.js";

/** Blobs are stored in chunks so a read can stream without loading the whole blob. */
const CHUNK = 64 * 1024;

export interface BlobInfo {
  readonly ref: string;
  readonly size: number;
}

/** Content-addressed (sha256) raw data inside an app's environment. */
export class BlobStore {
  private readonly chunks: Database<Buffer, [string, number]>;
  private readonly sizes: Database<number, string>;

  constructor(private readonly env: RootDatabase) {
    this.chunks = env.openDB({ name: "blob-chunks", encoding: "binary" });
    this.sizes = env.openDB({ name: "blobs", encoding: "msgpack" });
  }

  /** Stores `parts` (already size-checked by the caller) and returns the sha256 ref. Idempotent. */
  async put(parts: readonly Uint8Array[]): Promise<BlobInfo> {
    const hash = createHash("sha256");
    let size = 0;
    for (const p of parts) {
      hash.update(p);
      size += p.byteLength;
    }
    const ref = hash.digest("hex");
    if (this.sizes.get(ref) !== undefined) return { ref, size };
    const whole = Buffer.concat(parts);
    await this.env.transaction(() => {
      for (let i = 0, n = 0; i < size || n === 0; i += CHUNK, n++) {
        this.chunks.put([ref, n], whole.subarray(i, Math.min(size, i + CHUNK)));
      }
      this.sizes.put(ref, size);
    });
    return { ref, size };
  }

  info(ref: string): BlobInfo | undefined {
    const size = this.sizes.get(ref);
    return size === undefined ? undefined : { ref, size };
  }

  refs(): string[] {
    return [...this.sizes.getKeys()];
  }

  /** A stream of the blob's bytes, read chunk by chunk from LMDB as the consumer pulls. */
  stream(ref: string): ReadableStream<Uint8Array> {
    if (this.sizes.get(ref) === undefined) throw new AppsError("not_found", "no such blob");
    let n = 0;
    return new ReadableStream<Uint8Array>({
      pull: (controller) => {
        const chunk = this.chunks.getBinary([ref, n++]);
        if (chunk === undefined || chunk.byteLength === 0) {
          controller.close();
          return;
        }
        controller.enqueue(new Uint8Array(chunk));
      },
    });
  }

  async read(ref: string): Promise<Buffer> {
    const parts: Uint8Array[] = [];
    for await (const p of this.stream(ref)) parts.push(p);
    return Buffer.concat(parts);
  }
}
