import { readUtf8 } from "./utf8.js";

/** Longest key, in bytes, worth caching. */
export const MAX_CACHED_KEY = 24;
const SLOTS = 4096;

/**
 * Decoded short strings (map keys, tags), found again by their bytes. A
 * direct-mapped table: a hash picks one slot, and a byte compare confirms it,
 * so a collision only costs a fresh decode. Lenient UTF-8 decoding only.
 */
export class KeyCache {
  private readonly bytes = new Array<Uint8Array | undefined>(SLOTS);
  private readonly strings = new Array<string>(SLOTS);

  get(src: Uint8Array, start: number, end: number): string {
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
    const slot = (h >>> 0) & (SLOTS - 1);
    const cached = this.bytes[slot];
    const n = end - start;
    if (cached !== undefined && cached.length === n) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (cached[i] !== src[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.strings[slot]!;
    }
    const s = readUtf8(src, start, end, false);
    this.bytes[slot] = src.slice(start, end);
    this.strings[slot] = s;
    return s;
  }
}
