import { CodecError } from "../errors.js";
import { maxUtf8Length } from "../utf8.js";
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
  EXT_CASE,
  EXT_HANDLE,
  EXT_INT64,
  EXT_OPAQUE,
  EXT_PLAIN_STRING,
  EXT_TAGGED,
  EXT_TOKEN,
  EXT_UNDEFINED,
  isTagName,
  taggedFormEnd,
} from "./ext.js";
import { DEFAULT_MAX_DEPTH, type MsgpackEncodeOptions } from "./options.js";
import { writeAscii, writeString } from "./strings.js";

/*
 * Encoded values are views into a shared block, as Node's Buffer pool does:
 * one allocation per block instead of one (plus a copy) per value. Bytes once
 * handed out are never written again; a value that outgrows the block gets
 * a fresh one. A view keeps its whole block alive, hence the small block.
 */
const BLOCK = 16 * 1024;
let block: Uint8Array = new Uint8Array(BLOCK);
let blockView: DataView = new DataView(block.buffer);
let blockPos = 0;
/** Set while a writer uses the block: a nested call (from a getter) writes to its own buffer. */
let blockBusy = false;

class MsgpackWriter {
  private bytes: Uint8Array;
  private view: DataView;
  private start: number;
  private pos: number;
  private readonly pooled: boolean;

  constructor(private readonly maxDepth: number) {
    this.pooled = !blockBusy;
    if (this.pooled) {
      blockBusy = true;
      this.bytes = block;
      this.view = blockView;
      this.start = blockPos;
    } else {
      this.bytes = new Uint8Array(256);
      this.view = new DataView(this.bytes.buffer);
      this.start = 0;
    }
    this.pos = this.start;
  }

  finish(): Uint8Array {
    if (!this.pooled) return this.bytes.slice(this.start, this.pos);
    if (this.bytes.length !== BLOCK) return this.bytes.slice(this.start, this.pos); // a value of its own size
    block = this.bytes;
    blockView = this.view;
    blockPos = this.pos;
    return this.bytes.subarray(this.start, this.pos);
  }

  /** Gives the block back; after a failed encode its bytes are simply reused. */
  release(): void {
    if (this.pooled) blockBusy = false;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    const used = this.pos - this.start;
    let size = BLOCK;
    while (size < used + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(this.start, this.pos));
    this.bytes = next;
    this.view = new DataView(next.buffer);
    this.start = 0;
    this.pos = used;
  }

  write(value: MixValue, depth: number): void {
    switch (typeof value) {
      case "number":
        this.number(value);
        return;
      case "string":
        if (value.charCodeAt(0) === 0x7b && taggedFormEnd(value) >= 0)
          this.stringExt(EXT_PLAIN_STRING, value);
        else this.string(value, undefined);
        return;
      case "boolean":
        this.reserve(1);
        this.bytes[this.pos++] = value ? 0xc3 : 0xc2;
        return;
      case "undefined":
        this.reserve(3);
        this.extHeader(EXT_UNDEFINED, 0);
        return;
      case "bigint":
        this.int64(value);
        return;
      case "object":
        break;
      default:
        throw new CodecError("bad_value", `cannot encode a ${typeof value} as a Mix value`);
    }
    if (value === null) {
      this.reserve(1);
      this.bytes[this.pos++] = 0xc0;
      return;
    }
    if (depth >= this.maxDepth) throw new CodecError("too_deep", `value nests deeper than ${this.maxDepth}`);
    const next = depth + 1;
    // Maps first: they are most of a document, and one prototype check finds them.
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      this.map(value as MixMap, next);
    } else if (Array.isArray(value)) {
      this.arrayHeader(value.length);
      for (let i = 0; i < value.length; i++) this.write(value[i], next);
    } else if (value instanceof TaggedString) {
      if (isTagName(value.tag)) this.string(value.value, value.tag);
      else this.stringExt(EXT_TAGGED, `{${value.tag}}${value.value}`);
    } else if (value instanceof Uint8Array) {
      this.binary(value);
    } else if (value instanceof MixCase) {
      this.nested(EXT_CASE, () => {
        const hasArg = value.arg !== undefined;
        this.arrayHeader(hasArg ? 2 : 1);
        this.write(value.name, next);
        if (hasArg) this.write(value.arg, next);
      });
    } else if (value instanceof MixToken) {
      this.nested(EXT_TOKEN, () => {
        this.arrayHeader(3);
        this.number(value.enabledOps);
        this.binary(value.data);
        this.map(value.extras, next);
      });
    } else if (value instanceof MixOpaque) {
      this.words(EXT_OPAQUE, value.words);
    } else if (value instanceof MixHandle) {
      this.words(EXT_HANDLE, value.words);
    } else {
      throw new CodecError("bad_value", "cannot encode this object as a Mix value");
    }
  }

  private map(map: MixMap, depth: number): void {
    const keys = Object.keys(map);
    const n = keys.length;
    this.reserve(5);
    if (n < 16) {
      this.bytes[this.pos++] = 0x80 | n;
    } else if (n < 0x10000) {
      this.bytes[this.pos] = 0xde;
      this.view.setUint16(this.pos + 1, n);
      this.pos += 3;
    } else {
      this.bytes[this.pos] = 0xdf;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    }
    for (let i = 0; i < n; i++) {
      const key = keys[i]!;
      this.string(key, undefined);
      this.write(map[key], depth);
    }
  }

  private arrayHeader(n: number): void {
    this.reserve(5);
    if (n < 16) {
      this.bytes[this.pos++] = 0x90 | n;
    } else if (n < 0x10000) {
      this.bytes[this.pos] = 0xdc;
      this.view.setUint16(this.pos + 1, n);
      this.pos += 3;
    } else {
      this.bytes[this.pos] = 0xdd;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    }
  }

  /**
   * Integers that are exact in a double use the signed integer formats, as
   * amp's Go writer does (so re-encoding an archive entry gives its bytes
   * back); other numbers are float64.
   */
  private number(v: number): void {
    this.reserve(9);
    const b = this.bytes;
    const p = this.pos;
    const view = this.view;
    if (!Number.isSafeInteger(v) || Object.is(v, -0)) {
      b[p] = 0xcb;
      view.setFloat64(p + 1, v);
      this.pos = p + 9;
    } else if (v >= -32 && v < 0x80) {
      b[p] = v & 0xff;
      this.pos = p + 1;
    } else if (v >= -0x80 && v < 0x80) {
      b[p] = 0xd0;
      view.setInt8(p + 1, v);
      this.pos = p + 2;
    } else if (v >= -0x8000 && v < 0x8000) {
      b[p] = 0xd1;
      view.setInt16(p + 1, v);
      this.pos = p + 3;
    } else if (v >= -0x80000000 && v < 0x80000000) {
      b[p] = 0xd2;
      view.setInt32(p + 1, v);
      this.pos = p + 5;
    } else {
      b[p] = 0xd3;
      view.setInt32(p + 1, Math.floor(v / 0x100000000));
      view.setUint32(p + 5, v >>> 0);
      this.pos = p + 9;
    }
  }

  private int64(v: bigint): void {
    if (BigInt.asIntN(64, v) !== v) throw new CodecError("bad_value", `integer ${v} does not fit in 64 bits`);
    this.reserve(11);
    this.extHeader(EXT_INT64, 8);
    this.view.setBigInt64(this.pos, v);
    this.pos += 8;
  }

  /**
   * A str in its smallest form: `value`, or `{tag}value` for a tagged string.
   * ASCII (the usual case) is written straight after a header sized for its
   * length. Otherwise the header is sized for the longest possible UTF-8 form
   * and, when the bytes turn out shorter, they move down to a smaller one.
   */
  private string(value: string, tag: string | undefined): void {
    const chars = tag === undefined ? value.length : tag.length + 2 + value.length;
    this.reserve(chars + 5);
    const b = this.bytes;
    const p = this.pos;
    const room = strHeaderSize(chars);
    let end = p + room;
    if (tag !== undefined) {
      b[end] = 0x7b;
      end = writeAscii(tag, b, end + 1);
      if (end >= 0) b[end++] = 0x7d;
    }
    if (end >= 0) end = writeAscii(value, b, end);
    if (end >= 0) this.strHeader(p, chars);
    else this.utf8String(value, tag, chars * 3);
  }

  private utf8String(value: string, tag: string | undefined, max: number): void {
    this.reserve(max + 5);
    const b = this.bytes;
    const p = this.pos;
    const room = strHeaderSize(max);
    let end = p + room;
    if (tag !== undefined) {
      b[end] = 0x7b;
      end = writeString(tag, b, end + 1);
      b[end++] = 0x7d;
    }
    end = writeString(value, b, end);
    const n = end - p - room;
    const header = strHeaderSize(n);
    if (header < room) b.copyWithin(p + header, p + room, end);
    this.strHeader(p, n);
  }

  /** Writes the header of an `n`-byte str at `p`, whose bytes follow it, and moves past them. */
  private strHeader(p: number, n: number): void {
    const b = this.bytes;
    if (n < 32) {
      b[p] = 0xa0 | n;
      this.pos = p + 1 + n;
    } else if (n < 0x100) {
      b[p] = 0xd9;
      b[p + 1] = n;
      this.pos = p + 2 + n;
    } else if (n < 0x10000) {
      b[p] = 0xda;
      this.view.setUint16(p + 1, n);
      this.pos = p + 3 + n;
    } else {
      b[p] = 0xdb;
      this.view.setUint32(p + 1, n);
      this.pos = p + 5 + n;
    }
  }

  private stringExt(type: number, s: string): void {
    this.reserve(maxUtf8Length(s) + 6);
    const header = this.pos;
    this.pos += 6;
    this.pos = writeString(s, this.bytes, this.pos);
    this.patchExt32(header, type, this.pos - header - 6);
  }

  private binary(data: Uint8Array): void {
    const n = data.length;
    this.reserve(n + 5);
    const p = this.pos;
    if (n < 0x100) {
      this.bytes[p] = 0xc4;
      this.bytes[p + 1] = n;
      this.pos = p + 2;
    } else if (n < 0x10000) {
      this.bytes[p] = 0xc5;
      this.view.setUint16(p + 1, n);
      this.pos = p + 3;
    } else {
      this.bytes[p] = 0xc6;
      this.view.setUint32(p + 1, n);
      this.pos = p + 5;
    }
    this.bytes.set(data, this.pos);
    this.pos += n;
  }

  private words(type: number, words: Uint32Array): void {
    const n = words.length * 4;
    this.reserve(n + 6);
    this.extHeader(type, n);
    for (let i = 0; i < words.length; i++) this.view.setUint32(this.pos + 4 * i, words[i]!, true);
    this.pos += n;
  }

  /** An extension whose payload is itself msgpack: an ext32 header patched once the payload is written. */
  private nested(type: number, writePayload: () => void): void {
    this.reserve(6);
    // Relative to the value's start: the payload may move the value to a bigger buffer.
    const header = this.pos - this.start;
    this.pos += 6;
    writePayload();
    this.patchExt32(this.start + header, type, this.pos - this.start - header - 6);
  }

  private patchExt32(at: number, type: number, length: number): void {
    this.bytes[at] = 0xc9;
    this.view.setUint32(at + 1, length);
    this.view.setInt8(at + 5, type);
  }

  /** Header of an extension with a payload of `n` bytes (room must be reserved). */
  private extHeader(type: number, n: number): void {
    const p = this.pos;
    if (n < 0x100) {
      this.bytes[p] = 0xc7;
      this.bytes[p + 1] = n;
      this.view.setInt8(p + 2, type);
      this.pos = p + 3;
    } else {
      this.bytes[p] = 0xc9;
      this.view.setUint32(p + 1, n);
      this.view.setInt8(p + 5, type);
      this.pos = p + 6;
    }
  }
}

function strHeaderSize(n: number): number {
  return n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
}

/**
 * Encodes a Mix value as msgpack (the `.mp` entries of a `.remix` archive,
 * stored documents). A small result is a view into a shared 16 KiB block
 * (`slice()` it to keep it apart); its bytes never change.
 */
export function encodeMsgpack(value: MixValue, options: MsgpackEncodeOptions = {}): Uint8Array {
  const writer = new MsgpackWriter(options.maxDepth ?? DEFAULT_MAX_DEPTH);
  try {
    withStackGuard(() => writer.write(value, 0));
    return writer.finish();
  } finally {
    writer.release();
  }
}
