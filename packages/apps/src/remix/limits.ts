/** Limits on a `.remix` archive, checked while it streams in. */
export interface ArchiveLimits {
  /** Most entries (files and directories) in the archive (default 10_000). */
  readonly maxEntries: number;
  /** Most bytes after decompression, all entries together: the zip-bomb guard (default 256 MiB). */
  readonly maxUncompressedBytes: number;
  /** Longest entry path (default 512). */
  readonly maxPathLength: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxEntries: 10_000,
  maxUncompressedBytes: 256 * 1024 * 1024,
  maxPathLength: 512,
};

/** Progress of an import or export, reported per entry and every few MiB. */
export interface ArchiveProgress {
  readonly phase: "import" | "export";
  readonly entries: number;
  /** Uncompressed bytes read (import) or written (export) so far. */
  readonly bytes: number;
  readonly done: boolean;
}

export type ProgressCallback = (progress: ArchiveProgress) => void;
