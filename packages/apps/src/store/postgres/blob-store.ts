import { AppsError } from "../../errors.js";
import { blobRef } from "../blob-store.js";
import { BLOB_CHUNK, chunkStream } from "../chunk-stream.js";
import type { BlobInfo, BlobStore } from "../store.js";
import type { Database } from "./database.js";

/** Content-addressed blobs of one store, as bytea chunks. */
export class PostgresBlobStore implements BlobStore {
  constructor(
    private readonly db: Database,
    private readonly store: number,
  ) {}

  async put(parts: readonly Uint8Array[]): Promise<BlobInfo> {
    const { ref, size } = blobRef(parts);
    if (await this.info(ref)) return { ref, size };
    const whole = Buffer.concat(parts);
    const chunks: Buffer[] = [];
    for (let i = 0; i < size || chunks.length === 0; i += BLOB_CHUNK) {
      chunks.push(whole.subarray(i, Math.min(size, i + BLOB_CHUNK)));
    }
    await this.db.transaction(async (query) => {
      // Two writers of the same blob: the first one's rows stand, the second changes nothing.
      const [created] = await query<{ ref: string }>(
        "INSERT INTO amp_blobs (store, ref, size) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING ref",
        [this.store, ref, size],
      );
      if (!created) return;
      for (let n = 0; n < chunks.length; n += 16) {
        const batch = chunks.slice(n, n + 16);
        await query(
          "INSERT INTO amp_blob_chunks (store, ref, n, data) SELECT $1, $2, n, data FROM unnest($3::int[], $4::bytea[]) AS c (n, data)",
          [this.store, ref, batch.map((_, i) => n + i), batch],
        );
      }
    });
    return { ref, size };
  }

  async info(ref: string): Promise<BlobInfo | undefined> {
    const [row] = await this.db.query<{ size: string }>(
      "SELECT size FROM amp_blobs WHERE store = $1 AND ref = $2",
      [this.store, ref],
    );
    return row ? { ref, size: Number(row.size) } : undefined;
  }

  async refs(): Promise<string[]> {
    const rows = await this.db.query<{ ref: string }>(
      "SELECT ref FROM amp_blobs WHERE store = $1 ORDER BY ref",
      [this.store],
    );
    return rows.map((r) => r.ref);
  }

  stream(ref: string): ReadableStream<Uint8Array> {
    return chunkStream(
      async () => (await this.info(ref)) !== undefined,
      async (n) => {
        const [row] = await this.db.query<{ data: Buffer }>(
          "SELECT data FROM amp_blob_chunks WHERE store = $1 AND ref = $2 AND n = $3",
          [this.store, ref, n],
        );
        return row === undefined ? undefined : new Uint8Array(row.data);
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
