/** Compiled app code kept by (content hash, app, codeID), so a second session skips the blob read. */
export interface CachedCode {
  readonly hash: string;
  readonly bytes: Uint8Array;
}

/**
 * A bounded LRU of executables. The Groovebox pool keeps compiled modules by hash itself; this
 * cache saves the document-store query result's blob read and hashing for every new session.
 */
export class CodeCache {
  readonly #entries = new Map<string, CachedCode>();
  #bytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly maxBytes = 256 * 1024 * 1024) {}

  static key(hash: string, app: string, codeID: number): string {
    return `${hash}\u0000${app}\u0000${codeID}`;
  }

  get(hash: string, app: string, codeID: number): CachedCode | undefined {
    const key = CodeCache.key(hash, app, codeID);
    const hit = this.#entries.get(key);
    if (hit === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#entries.delete(key); // move to the young end
    this.#entries.set(key, hit);
    return hit;
  }

  put(app: string, codeID: number, code: CachedCode): void {
    const key = CodeCache.key(code.hash, app, codeID);
    if (this.#entries.has(key)) return;
    this.#entries.set(key, code);
    this.#bytes += code.bytes.byteLength;
    for (const [k, old] of this.#entries) {
      if (this.#bytes <= this.maxBytes || this.#entries.size === 1) break;
      this.#entries.delete(k);
      this.#bytes -= old.bytes.byteLength;
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
