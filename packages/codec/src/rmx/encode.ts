import { crc32 } from "../crc32.js";
import { CodecError } from "../errors.js";
import { writeUtf8 } from "../utf8.js";
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
import { DEFAULT_MAX_DEPTH, type RmxEncodeOptions } from "./options.js";
import { assertLittleEndian } from "./platform.js";
import {
  BOOL_TRUE,
  PAD_WORD,
  TAG_BINARY,
  TAG_BOOL,
  TAG_CASE,
  TAG_HANDLE,
  TAG_INT64,
  TAG_IOMAP,
  TAG_NULL,
  TAG_NUMBER,
  TAG_OPAQUE,
  TAG_STRING,
  TAG_TAGGEDSTRING,
  TAG_UNDEFINED,
  TAGWORD_ARRAY,
  TAGWORD_TOKEN,
} from "./tags.js";

const INITIAL_WORDS = 1024;

/**
 * Writes one value as RmxCodec blocks, parent before children (the order the
 * Groovebox's host uses), so the root block sits at byte 0 and every pointer
 * is a byte offset from the start of the buffer.
 */
class RmxWriter {
  private words = new Uint32Array(INITIAL_WORDS);
  private bytes = new Uint8Array(this.words.buffer);
  private f64 = new Float64Array(this.words.buffer);
  /** Next free word; always even between blocks. */
  private pos = 0;

  constructor(
    private readonly withCrc: boolean,
    private readonly maxDepth: number,
  ) {}

  finish(): Uint8Array {
    return this.bytes.slice(0, this.pos * 4);
  }

  private reserve(n: number): void {
    const need = this.pos + n;
    if (need <= this.words.length) return;
    let size = this.words.length * 2;
    while (size < need) size *= 2;
    const next = new Uint32Array(size);
    next.set(this.words.subarray(0, this.pos));
    this.words = next;
    this.bytes = new Uint8Array(next.buffer);
    this.f64 = new Float64Array(next.buffer);
  }

  /** Starts a block of `size` payload words (plus the pad word if needed); returns its first word. */
  private block(size: number, tagword: number): number {
    const total = (size + 3) & ~1; // header + payload, rounded up to even
    this.reserve(total);
    const p = this.pos;
    const w = this.words;
    w[p] = size;
    w[p + 1] = tagword;
    if ((size & 1) === 1) w[p + total - 1] = PAD_WORD;
    this.pos = p + total;
    return p;
  }

  /** Writes `value` and returns the byte offset of its block. */
  write(value: MixValue, depth: number): number {
    switch (typeof value) {
      case "undefined": {
        const p = this.block(1, TAG_UNDEFINED);
        this.words[p + 2] = 1;
        return p * 4;
      }
      case "boolean": {
        const p = this.block(1, TAG_BOOL);
        this.words[p + 2] = value ? BOOL_TRUE : 0;
        return p * 4;
      }
      case "number": {
        const p = this.block(2, TAG_NUMBER);
        this.f64[(p + 2) >> 1] = value;
        return p * 4;
      }
      case "string":
        return this.writeString(TAG_STRING, "", value);
      case "bigint":
        return this.writeInt64(value);
      case "object":
        break;
      default:
        throw new CodecError("bad_value", `cannot encode a ${typeof value} as a Mix value`);
    }
    if (value === null) return this.block(0, TAG_NULL) * 4;
    if (depth >= this.maxDepth) throw new CodecError("too_deep", `value nests deeper than ${this.maxDepth}`);
    if (Array.isArray(value)) return this.writeArray(value, depth + 1);
    if (value instanceof Uint8Array) return this.writeBytes(value);
    if (value instanceof TaggedString) {
      if (value.tag.includes("}"))
        throw new CodecError("bad_value", `a tag cannot contain "}": ${value.tag}`);
      return this.writeString(TAG_TAGGEDSTRING, `{${value.tag}}`, value.value);
    }
    if (value instanceof MixCase) {
      // Children may grow (and so replace) the buffer: write each pointer after its child.
      const p = this.block(2, TAG_CASE);
      const name = this.writeString(TAG_STRING, "", value.name);
      this.words[p + 2] = name;
      const arg = this.write(value.arg, depth + 1);
      this.words[p + 3] = arg;
      return p * 4;
    }
    if (value instanceof MixToken) {
      const p = this.block(3, TAGWORD_TOKEN);
      this.words[p + 2] = value.enabledOps >>> 0;
      const data = this.writeBytes(value.data);
      this.words[p + 3] = data;
      const extras = this.writeMap(value.extras, depth + 1);
      this.words[p + 4] = extras;
      return p * 4;
    }
    if (value instanceof MixOpaque) return this.writeWords(TAG_OPAQUE, value.words);
    if (value instanceof MixHandle) return this.writeWords(TAG_HANDLE, value.words);
    if (isMixMap(value)) return this.writeMap(value, depth + 1);
    throw new CodecError("bad_value", `cannot encode a ${describe(value)} as a Mix value`);
  }

  private writeArray(items: MixValue[], depth: number): number {
    const n = items.length;
    const p = this.block(n + 2, TAGWORD_ARRAY);
    this.words[p + 2] = 0;
    this.words[p + 3] = n;
    for (let i = 0; i < n; i++) {
      const child = this.write(items[i], depth);
      this.words[p + 4 + i] = child;
    }
    return p * 4;
  }

  private writeMap(map: MixMap, depth: number): number {
    const keys = Object.keys(map);
    const n = keys.length;
    const p = this.block(2 * n, TAG_IOMAP);
    for (let i = 0; i < n; i++) {
      const key = keys[i]!;
      const k = this.writeString(TAG_STRING, "", key);
      this.words[p + 2 + 2 * i] = k;
      const v = this.write(map[key], depth);
      this.words[p + 3 + 2 * i] = v;
    }
    return p * 4;
  }

  private writeInt64(value: bigint): number {
    if (BigInt.asIntN(64, value) !== value) {
      throw new CodecError("bad_value", `integer ${value} does not fit in 64 bits`);
    }
    const p = this.block(2, TAG_INT64);
    this.words[p + 2] = Number(value & 0xffffffffn);
    this.words[p + 3] = Number((value >> 32n) & 0xffffffffn);
    return p * 4;
  }

  private writeWords(tag: number, payload: Uint32Array): number {
    const p = this.block(payload.length, tag);
    this.words.set(payload, p + 2);
    return p * 4;
  }

  /**
   * String, tagged string and binary share one layout: a CRC word, the bytes,
   * zero padding and a final byte holding the pad count minus one, so the
   * bytes always end inside the block: floor(n/4)+2 payload words.
   */
  private writeString(tag: number, prefix: string, body: string): number {
    const maxLen = (prefix.length + body.length) * 3;
    this.reserve(4 + (maxLen >> 2) + 2);
    const p = this.pos;
    const start = (p + 3) * 4;
    let n = 0;
    if (prefix.length > 0) n += writeUtf8(prefix, this.bytes, start);
    n += writeUtf8(body, this.bytes, start + n);
    return this.closeBytes(tag, p, n);
  }

  private writeBytes(data: Uint8Array): number {
    const n = data.length;
    this.reserve(4 + (n >> 2) + 2);
    const p = this.pos;
    this.bytes.set(data, (p + 3) * 4);
    return this.closeBytes(TAG_BINARY, p, n);
  }

  /** Completes a byte block whose `n` bytes are already at word `p + 3`. */
  private closeBytes(tag: number, p: number, n: number): number {
    const size = (n >> 2) + 2;
    const start = (p + 3) * 4;
    const padding = 4 - (n & 3);
    const b = this.bytes;
    for (let i = n; i < n + padding - 1; i++) b[start + i] = 0;
    b[start + n + padding - 1] = padding - 1;
    const w = this.words;
    w[p] = size;
    w[p + 1] = tag;
    w[p + 2] = this.withCrc ? crc32(b, 0, start, start + n) : 0;
    const total = (size + 3) & ~1;
    if ((size & 1) === 1) w[p + total - 1] = PAD_WORD;
    this.pos = p + total;
    return p * 4;
  }
}

/**
 * Encodes a Mix value as an RmxCodec I/O block: what `mixrt_relocateInput`
 * accepts. The root block is at byte 0; pointers are byte offsets from there.
 */
export function encodeRmx(value: MixValue, options: RmxEncodeOptions = {}): Uint8Array {
  assertLittleEndian();
  const writer = new RmxWriter(options.crc ?? false, options.maxDepth ?? DEFAULT_MAX_DEPTH);
  withStackGuard(() => writer.write(value, 0));
  return writer.finish();
}

function describe(value: unknown): string {
  const proto: unknown = value === null ? null : Object.getPrototypeOf(value);
  const ctor = proto && typeof proto === "object" && "constructor" in proto ? proto.constructor : undefined;
  return typeof ctor === "function" && ctor.name ? ctor.name : "object";
}
