import { Unzip, UnzipInflate, type Unzip as UnzipT } from "fflate";
import { AppsError } from "../errors.js";
import type { ArchiveLimits, ProgressCallback } from "./limits.js";

/** An archive read fully into memory, bounded by the limits: path → bytes. */
export type ArchiveEntries = Map<string, Uint8Array>;

const PROGRESS_EVERY = 8 * 1024 * 1024;

/** Entry paths must be relative, forward-slashed, with no `.`/`..` segments or control characters. */
export function checkEntryPath(path: string, limits: ArchiveLimits): void {
  const bad =
    path.length === 0 ||
    path.length > limits.maxPathLength ||
    path.startsWith("/") ||
    /^[A-Za-z]:/.test(path) ||
    path.includes("\\") ||
    [...path].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f) ||
    path.split("/").some((seg, i, all) => seg === ".." || seg === "." || (seg === "" && i < all.length - 1));
  if (bad) throw new AppsError("bad_archive", `bad entry path ${JSON.stringify(path.slice(0, 100))}`);
}

/**
 * Streams a zip through fflate's Unzip, enforcing the entry count, the total
 * uncompressed size (stopping a zip bomb as soon as it passes the limit, not
 * after) and the path rules. Throws `bad_archive` / `too_large`.
 */
export async function readArchive(
  source: AsyncIterable<Uint8Array>,
  limits: ArchiveLimits,
  onProgress?: ProgressCallback,
): Promise<ArchiveEntries> {
  const entries: ArchiveEntries = new Map();
  const pending = new Set<string>();
  let failure: AppsError | undefined;
  let count = 0;
  let total = 0;
  let nextReport = PROGRESS_EVERY;
  const fail = (err: AppsError) => {
    failure ??= err;
  };

  const unzip: UnzipT = new Unzip((file) => {
    if (failure) return;
    try {
      if (++count > limits.maxEntries)
        throw new AppsError("bad_archive", `more than ${limits.maxEntries} entries`);
      checkEntryPath(file.name, limits);
      if (entries.has(file.name) || pending.has(file.name)) {
        throw new AppsError("bad_archive", `duplicate entry ${file.name}`);
      }
    } catch (err) {
      fail(err as AppsError);
      return;
    }
    if (file.name.endsWith("/")) return; // a directory entry
    pending.add(file.name);
    const parts: Uint8Array[] = [];
    file.ondata = (err, chunk, final) => {
      if (failure) return;
      if (err) {
        fail(new AppsError("bad_archive", `entry ${file.name}: ${err.message}`));
        return;
      }
      total += chunk.byteLength;
      if (total > limits.maxUncompressedBytes) {
        fail(new AppsError("too_large", `archive expands past ${limits.maxUncompressedBytes} bytes`));
        file.terminate();
        return;
      }
      parts.push(chunk);
      if (total >= nextReport) {
        nextReport += PROGRESS_EVERY;
        onProgress?.({ phase: "import", entries: entries.size, bytes: total, done: false });
      }
      if (final) {
        pending.delete(file.name);
        entries.set(file.name, parts.length === 1 ? parts[0]! : Buffer.concat(parts));
      }
    };
    try {
      file.start();
    } catch (err) {
      fail(new AppsError("bad_archive", `entry ${file.name}: ${(err as Error).message}`));
    }
  });
  unzip.register(UnzipInflate);

  const push = (chunk: Uint8Array, final: boolean) => {
    try {
      unzip.push(chunk, final);
    } catch (err) {
      fail(
        err instanceof AppsError
          ? err
          : new AppsError("bad_archive", `not a zip archive: ${(err as Error).message}`),
      );
    }
    if (failure) throw failure;
  };
  const tail = new ArchiveTail();
  for await (const chunk of source) {
    tail.add(chunk);
    push(chunk, false);
  }
  push(new Uint8Array(0), true);
  const declared = tail.declaredEntries();
  if (declared === undefined)
    throw new AppsError("bad_archive", "not a zip archive, or truncated (no end record)");
  if (declared !== count)
    throw new AppsError("bad_archive", `archive lists ${declared} entries but holds ${count}`);
  if (pending.size > 0) throw new AppsError("bad_archive", `archive is truncated (in ${[...pending][0]})`);
  onProgress?.({ phase: "import", entries: entries.size, bytes: total, done: true });
  return entries;
}

/** The end-of-central-directory record is within the last 22 + 65535 bytes of a zip. */
const TAIL_BYTES = 22 + 0xffff;

/** Keeps the end of the stream to check the zip's end record: a streamed unzip alone cannot tell a cut archive. */
class ArchiveTail {
  private parts: Uint8Array[] = [];
  private size = 0;

  add(chunk: Uint8Array): void {
    this.parts.push(chunk);
    this.size += chunk.byteLength;
    while (this.parts.length > 1 && this.size - this.parts[0]!.byteLength >= TAIL_BYTES) {
      this.size -= this.parts.shift()!.byteLength;
    }
  }

  /** Total entries the end record declares, or undefined when there is no end record. */
  declaredEntries(): number | undefined {
    const buf = Buffer.concat(this.parts);
    for (let i = buf.length - 22; i >= 0; i--) {
      if (buf.readUInt32LE(i) === 0x06054b50 && i + 22 + buf.readUInt16LE(i + 20) === buf.length) {
        return buf.readUInt16LE(i + 10);
      }
    }
    return undefined;
  }
}
