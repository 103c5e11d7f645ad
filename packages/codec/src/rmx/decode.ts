import { crc32 } from "../crc32.js";
import { CodecError } from "../errors.js";
import { KeyCache, MAX_CACHED_KEY } from "../key-cache.js";
import { InvalidUtf8, readUtf8 } from "../utf8.js";
import { setEntry } from "../value/construct.js";
import { isMixMap } from "../value/guards.js";
import {
  MixCase,
  MixHandle,
  type MixMap,
  MixOpaque,
  MixToken,
  type MixValue,
  TaggedString,
} from "../value/types.js";
import { withStackGuard } from "../walk.js";
import {
  DEFAULT_MAX_BYTES,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_EXPANSION,
  type RmxDecodeOptions,
} from "./options.js";
import { assertLittleEndian } from "./platform.js";
import {
  TAG_ARRAY,
  TAG_BINARY,
  TAG_BOOL,
  TAG_CASE,
  TAG_EMPTYMAP,
  TAG_HANDLE,
  TAG_INT64,
  TAG_IOMAP,
  TAG_MAP,
  TAG_NULL,
  TAG_NUMBER,
  TAG_OPAQUE,
  TAG_STRING,
  TAG_TAGGEDSTRING,
  TAG_TOKEN,
  TAG_UNDEFINED,
} from "./tags.js";

/** Map keys and tags repeat across documents; short ones are decoded once. */
const keyCache = new KeyCache();

const scratch = new Uint32Array(2);
const scratchF64 = new Float64Array(scratch.buffer);

/**
 * Walks RmxCodec blocks. Every pointer and size is checked against the buffer
 * before it is followed or allocated for, containers on the current path are
 * marked to catch pointer cycles, and a work budget bounds how far shared
 * blocks can expand the output.
 */
class RmxReader {
  private readonly words: Uint32Array;
  private readonly nWords: number;
  /**
   * Containers on the path from the root to the block being read (word
   * offsets). Blocks come parent first, so a cycle must follow a pointer
   * backwards; only those pointers are checked against this path.
   */
  private readonly path: number[] = [];
  private budget: number;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly checkCrc: boolean,
    private readonly strictUtf8: boolean,
    private readonly maxDepth: number,
    maxExpansion: number,
    private readonly keys: KeyCache,
  ) {
    this.nWords = bytes.length >> 2;
    this.words = new Uint32Array(bytes.buffer, bytes.byteOffset, this.nWords);
    this.budget = this.nWords * maxExpansion + 1024;
  }

  /** Reads the block at byte offset `ptr`; `from` is where the pointer was found, for errors. */
  read(ptr: number, depth: number, from: number): MixValue {
    if ((ptr & 3) !== 0) throw new CodecError("out_of_bounds", `misaligned pointer ${ptr}`, from);
    const p = ptr >>> 2;
    if (p + 2 > this.nWords) throw new CodecError("out_of_bounds", `pointer ${ptr} beyond the buffer`, from);
    const w = this.words;
    const size = w[p]!;
    if (size > this.nWords - p - 2) {
      throw new CodecError("truncated", `block of ${size} words runs past the end`, ptr);
    }
    this.budget -= size + 2;
    if (this.budget < 0)
      throw new CodecError("too_large", "shared blocks expand beyond the decoding budget", ptr);
    const tag = w[p + 1]! & 0xff;
    switch (tag) {
      case TAG_UNDEFINED:
        return undefined;
      case TAG_NULL:
        return null;
      case TAG_BOOL:
        this.expectSize(size, 1, ptr);
        return w[p + 2] !== 0;
      case TAG_NUMBER:
        this.expectSize(size, 2, ptr);
        scratch[0] = w[p + 2]!;
        scratch[1] = w[p + 3]!;
        return scratchF64[0];
      case TAG_INT64:
        this.expectSize(size, 2, ptr);
        return BigInt.asIntN(64, (BigInt(w[p + 3]!) << 32n) | BigInt(w[p + 2]!));
      case TAG_STRING:
        return this.text(p, size);
      case TAG_TAGGEDSTRING:
        return this.taggedString(p, size);
      case TAG_BINARY: {
        const [start, end] = this.byteRange(p, size);
        return this.bytes.slice(start, end);
      }
      case TAG_OPAQUE:
        return new MixOpaque(w.slice(p + 2, p + 2 + size));
      case TAG_HANDLE:
        return new MixHandle(w.slice(p + 2, p + 2 + size));
      case TAG_EMPTYMAP:
        return {};
      case TAG_MAP:
        throw new CodecError("unsupported", "a VM heap map (tag 17) cannot cross the I/O boundary", ptr);
      case TAG_ARRAY:
      case TAG_IOMAP:
      case TAG_CASE:
      case TAG_TOKEN:
        if (ptr <= from && this.path.includes(p)) throw new CodecError("cycle", "pointer cycle", from);
        return this.container(tag, p, size, depth);
      default:
        throw new CodecError("bad_tag", `unknown block tag ${tag}`, ptr + 4);
    }
  }

  private container(tag: number, p: number, size: number, depth: number): MixValue {
    const ptr = p * 4;
    if (depth >= this.maxDepth)
      throw new CodecError("too_deep", `value nests deeper than ${this.maxDepth}`, ptr);
    this.path.push(p);
    const next = depth + 1;
    let value: MixValue;
    switch (tag) {
      case TAG_ARRAY:
        value = this.array(p, size, next);
        break;
      case TAG_IOMAP:
        value = this.map(p, size, next);
        break;
      case TAG_CASE:
        this.expectSize(size, 2, ptr);
        value = new MixCase(this.string(p + 2, next), this.child(p + 3, next));
        break;
      default:
        this.expectSize(size, 3, ptr);
        value = new MixToken(this.words[p + 2]!, this.binary(p + 3, next), this.mapAt(p + 4, next));
    }
    this.path.pop();
    return value;
  }

  private array(p: number, size: number, depth: number): MixValue[] {
    if (size < 2) throw new CodecError("bad_size", `array block of ${size} words`, p * 4);
    const n = this.words[p + 3]!;
    if (n + 2 !== size)
      throw new CodecError("bad_size", `array of ${n} items in a block of ${size} words`, p * 4);
    const items = new Array<MixValue>(n);
    for (let i = 0; i < n; i++) items[i] = this.child(p + 4 + i, depth);
    return items;
  }

  private map(p: number, size: number, depth: number): MixMap {
    if ((size & 1) !== 0) throw new CodecError("bad_size", `map block of odd size ${size}`, p * 4);
    const map: MixMap = {};
    for (let i = p + 2; i < p + 2 + size; i += 2) {
      const key = this.key(i);
      const value = this.child(i + 1, depth);
      if (key === "__proto__") setEntry(map, key, value);
      else map[key] = value;
    }
    return map;
  }

  /** Follows the pointer stored at word `at`. */
  private child(at: number, depth: number): MixValue {
    return this.read(this.words[at]!, depth, at * 4);
  }

  private string(at: number, depth: number): string {
    const v = this.child(at, depth);
    if (typeof v !== "string") throw new CodecError("bad_value", "expected a string", this.words[at]!);
    return v;
  }

  /** A map key: a string block, decoded through the key cache. */
  private key(at: number): string {
    const ptr = this.words[at]!;
    const p = ptr >>> 2;
    if ((ptr & 3) !== 0 || p + 2 > this.nWords || (this.words[p + 1]! & 0xff) !== TAG_STRING) {
      return this.string(at, 0); // the general path reports what is wrong
    }
    const size = this.words[p]!;
    if (size > this.nWords - p - 2)
      throw new CodecError("truncated", `block of ${size} words runs past the end`, ptr);
    this.budget -= size + 2;
    if (this.budget < 0)
      throw new CodecError("too_large", "shared blocks expand beyond the decoding budget", ptr);
    const [start, end] = this.byteRange(p, size);
    return end - start <= MAX_CACHED_KEY && !this.strictUtf8
      ? this.keys.get(this.bytes, start, end)
      : this.utf8(start, end);
  }

  private binary(at: number, depth: number): Uint8Array {
    const v = this.child(at, depth);
    if (!(v instanceof Uint8Array)) throw new CodecError("bad_value", "expected binary", this.words[at]!);
    return v;
  }

  private mapAt(at: number, depth: number): MixMap {
    const v = this.child(at, depth);
    if (!isMixMap(v)) throw new CodecError("bad_value", "expected a map", this.words[at]!);
    return v;
  }

  private expectSize(size: number, expected: number, ptr: number): void {
    if (size < expected)
      throw new CodecError("bad_size", `block of ${size} words, expected ${expected}`, ptr);
  }

  /** The byte range of a string/binary block's content, after checking its pad byte and CRC. */
  private byteRange(p: number, size: number): [number, number] {
    if (size < 2) throw new CodecError("bad_size", `byte block of ${size} words`, p * 4);
    const start = (p + 3) * 4;
    const last = start + (size - 1) * 4 - 1;
    const pad = this.bytes[last]!;
    if (pad > 3) throw new CodecError("bad_padding", `pad byte ${pad} exceeds 3`, last);
    const end = last - pad;
    if (this.checkCrc) {
      const expected = this.words[p + 2]!;
      const actual = crc32(this.bytes, 0, start, end);
      if (actual !== expected) {
        throw new CodecError("bad_crc", `CRC ${hex(expected)} but content has ${hex(actual)}`, (p + 2) * 4);
      }
    }
    return [start, end];
  }

  private text(p: number, size: number): string {
    const [start, end] = this.byteRange(p, size);
    return this.utf8(start, end);
  }

  private utf8(start: number, end: number): string {
    try {
      return readUtf8(this.bytes, start, end, this.strictUtf8);
    } catch (e) {
      if (e instanceof InvalidUtf8) throw new CodecError("bad_utf8", "string is not valid UTF-8", start);
      throw e;
    }
  }

  /** `{tag}value`: the tag and the value are decoded apart, straight from the bytes. */
  private taggedString(p: number, size: number): TaggedString {
    const [start, end] = this.byteRange(p, size);
    const close = this.bytes.indexOf(0x7d, start);
    if (this.bytes[start] !== 0x7b || close < 0 || close >= end) {
      throw new CodecError("bad_value", "tagged string without a {tag} prefix", p * 4);
    }
    const tag =
      close - start <= MAX_CACHED_KEY + 1 && !this.strictUtf8
        ? this.keys.get(this.bytes, start + 1, close)
        : this.utf8(start + 1, close);
    return new TaggedString(tag, this.utf8(close + 1, end));
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

/**
 * Decodes an RmxCodec I/O block, as `mixrt_copyYGtoIO` + `mixrt_relocateOutput`
 * produce it: little-endian words, root block at byte 0 (or `options.root`),
 * pointers as byte offsets from the start of the buffer.
 */
export function decodeRmx(bytes: Uint8Array, options: RmxDecodeOptions = {}): MixValue {
  assertLittleEndian();
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length > maxBytes) {
    throw new CodecError(
      "too_large",
      `input of ${bytes.length} bytes exceeds the limit of ${maxBytes}`,
      maxBytes,
    );
  }
  if (bytes.length < 8 || (bytes.length & 3) !== 0) {
    throw new CodecError(
      "truncated",
      `input of ${bytes.length} bytes is not a whole number of blocks`,
      bytes.length & ~3,
    );
  }
  // A Uint32Array view needs 4-byte alignment; copy the rare unaligned input (with the
  // Uint8Array constructor: a Node Buffer's `slice()` is a view, as unaligned as before).
  const aligned = (bytes.byteOffset & 3) === 0 ? bytes : new Uint8Array(bytes);
  const reader = new RmxReader(
    aligned,
    options.checkCrc ?? false,
    options.strictUtf8 ?? false,
    options.maxDepth ?? DEFAULT_MAX_DEPTH,
    options.maxExpansion ?? DEFAULT_MAX_EXPANSION,
    keyCache,
  );
  return withStackGuard(() => reader.read(options.root ?? 0, 0, 0));
}
