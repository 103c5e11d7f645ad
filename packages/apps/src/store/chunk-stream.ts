/** Blobs are stored in chunks of this size (both engines), so a read can stream without loading the whole blob. */
export const BLOB_CHUNK = 64 * 1024;

/**
 * A blob's bytes as a stream pulled chunk by chunk through `chunk(n)` (undefined or empty:
 * the end); `exists` is asked on the first pull, and `notFound()` errors the stream when false.
 */
export function chunkStream(
  exists: () => Promise<boolean> | boolean,
  chunk: (n: number) => Promise<Uint8Array | undefined> | Uint8Array | undefined,
  notFound: () => Error,
): ReadableStream<Uint8Array> {
  let n = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (n === 0 && !(await exists())) throw notFound();
      const part = await chunk(n++);
      if (part === undefined || part.byteLength === 0) controller.close();
      else controller.enqueue(part);
    },
  });
}
