import { CodecError } from "../errors.js";
import { KeyCache, MAX_CACHED_KEY } from "../key-cache.js";
import { InvalidUtf8 } from "../utf8.js";
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
  EXT_CASE,
  EXT_HANDLE,
  EXT_INT64,
  EXT_OPAQUE,
  EXT_PLAIN_STRING,
  EXT_TAGGED,
  EXT_TOKEN,
  EXT_UNDEFINED,
  taggedFormEndInBytes,
} from "./ext.js";
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, type MsgpackDecodeOptions } from "./options.js";
import { readString } from "./strings.js";

const scratchBytes = new Uint8Array(8);
const scratchView = new DataView(scratchBytes.buffer);

/** Map keys repeat across documents; short ones are decoded once. */
const keyCache = new KeyCache();

/*
 * Documents of one kind have the same keys in the same order, so the n-th key
 * of a value is most likely the n-th key of the value decoded before it. Each
 * is checked against that prediction by a byte compare, which costs less than
 * hashing it for the cache; a wrong guess falls back to the cache.
 */
const PREDICTED_KEYS = 64;
const predictedBytes = new Uint8Array(PREDICTED_KEYS * MAX_CACHED_KEY);
const predictedLength = new Int32Array(PREDICTED_KEYS).fill(-1);
const predictedKeys = new Array<string>(PREDICTED_KEYS).fill("");

/**
 * Reads msgpack. Every length is checked against the bytes that remain before
 * anything is allocated for it (an element takes at least one byte).
 */
class MsgpackReader {
  /** Map keys read so far: the index into the key predictions. */
  private keyCount = 0;
  /** Made on first use: most documents need none, and making one costs as much as a short string. */
  private dataView: DataView | undefined;
  pos = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly end: number,
    private readonly maxDepth: number,
    private readonly strictUtf8: boolean,
    private readonly keys: KeyCache,
    /** Off for the readers of case and token payloads, which would only disturb the predictions. */
    private readonly predictKeys: boolean,
  ) {}

  private get view(): DataView {
    if (this.dataView === undefined) {
      this.dataView = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    }
    return this.dataView;
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos) {
      throw new CodecError("truncated", `${what} needs ${n} bytes, ${this.end - this.pos} remain`, this.pos);
    }
  }

  read(depth: number): MixValue {
    this.need(1, "a value");
    const start = this.pos;
    const b = this.bytes[this.pos++]!;
    if (b < 0x80) return b;
    if (b >= 0xe0) return b - 0x100;
    if (b >= 0xa0 && b < 0xc0) return this.str(b & 0x1f);
    if (b >= 0x90 && b < 0xa0) return this.array(b & 0x0f, depth, start);
    if (b >= 0x80 && b < 0x90) return this.map(b & 0x0f, depth, start);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.bin(this.u8());
      case 0xc5:
        return this.bin(this.u16());
      case 0xc6:
        return this.bin(this.u32());
      case 0xc7:
        return this.ext(this.u8(), depth, start);
      case 0xc8:
        return this.ext(this.u16(), depth, start);
      case 0xc9:
        return this.ext(this.u32(), depth, start);
      case 0xca:
        this.need(4, "a float32");
        this.pos += 4;
        return this.scratch(4).getFloat32(0);
      case 0xcb:
        this.need(8, "a float64");
        this.pos += 8;
        return this.scratch(8).getFloat64(0);
      case 0xcc:
        return this.u8();
      case 0xcd:
        return this.u16();
      case 0xce:
        return this.u32();
      case 0xcf: {
        this.need(8, "a uint64");
        this.pos += 8;
        const n = this.view.getBigUint64(this.pos - 8);
        // Beyond int64 a bigint cannot be a Mix value; the nearest number is the sensible reading.
        return n <= BigInt(Number.MAX_SAFE_INTEGER) || n >= 2n ** 63n ? Number(n) : n;
      }
      case 0xd0:
        this.need(1, "an int8");
        return (this.bytes[this.pos++]! << 24) >> 24;
      case 0xd1:
        this.need(2, "an int16");
        this.pos += 2;
        return (this.u16At(this.pos - 2) << 16) >> 16;
      case 0xd2:
        this.need(4, "an int32");
        this.pos += 4;
        return this.u32At(this.pos - 4) | 0;
      case 0xd3: {
        this.need(8, "an int64");
        this.pos += 8;
        const n = this.view.getBigInt64(this.pos - 8);
        return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
      }
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        return this.ext(1 << (b - 0xd4), depth, start);
      case 0xd9:
        return this.str(this.u8());
      case 0xda:
        return this.str(this.u16());
      case 0xdb:
        return this.str(this.u32());
      case 0xdc:
        return this.array(this.u16(), depth, start);
      case 0xdd:
        return this.array(this.u32(), depth, start);
      case 0xde:
        return this.map(this.u16(), depth, start);
      case 0xdf:
        return this.map(this.u32(), depth, start);
      default:
        throw new CodecError("bad_msgpack", `0x${b.toString(16)} is not a msgpack type`, start);
    }
  }

  private u8(): number {
    this.need(1, "a length");
    return this.bytes[this.pos++]!;
  }

  private u16(): number {
    this.need(2, "a length");
    this.pos += 2;
    return this.u16At(this.pos - 2);
  }

  private u32(): number {
    this.need(4, "a length");
    this.pos += 4;
    return this.u32At(this.pos - 4);
  }

  private u16At(p: number): number {
    return (this.bytes[p]! << 8) | this.bytes[p + 1]!;
  }

  private u32At(p: number): number {
    const b = this.bytes;
    return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  /** The `n` bytes just read, copied to a scratch view: floats need no DataView of the input. */
  private scratch(n: number): DataView {
    for (let i = 0; i < n; i++) scratchBytes[i] = this.bytes[this.pos - n + i]!;
    return scratchView;
  }

  private text(n: number): string {
    this.need(n, "a string");
    const start = this.pos;
    this.pos += n;
    try {
      return readString(this.bytes, start, start + n, this.strictUtf8);
    } catch (e) {
      if (e instanceof InvalidUtf8) throw new CodecError("bad_utf8", "string is not valid UTF-8", start);
      throw e;
    }
  }

  /** A map key of at most MAX_CACHED_KEY bytes (lenient UTF-8). */
  private cachedKey(n: number): string {
    this.need(n, "a string");
    const bytes = this.bytes;
    const start = this.pos;
    this.pos += n;
    const k = this.keyCount++;
    if (k >= PREDICTED_KEYS || !this.predictKeys) return this.keys.get(bytes, start, start + n);
    const at = k * MAX_CACHED_KEY;
    if (predictedLength[k] === n) {
      let i = 0;
      while (i < n && predictedBytes[at + i] === bytes[start + i]) i++;
      if (i === n) return predictedKeys[k]!;
    }
    const key = this.keys.get(bytes, start, start + n);
    predictedBytes.set(bytes.subarray(start, start + n), at);
    predictedLength[k] = n;
    predictedKeys[k] = key;
    return key;
  }

  /** A msgpack string: a TaggedString when written `{tag}value`. */
  private str(n: number): string | TaggedString {
    this.need(n, "a string");
    const start = this.pos;
    const close = this.bytes[start] === 0x7b ? taggedFormEndInBytes(this.bytes, start, start + n) : -1;
    if (close < 0) return this.text(n);
    this.pos = start + 1;
    const tag =
      close - start - 1 <= MAX_CACHED_KEY && !this.strictUtf8
        ? this.keys.get(this.bytes, start + 1, close)
        : this.text(close - start - 1);
    this.pos = close + 1;
    return new TaggedString(tag, this.text(start + n - this.pos));
  }

  private bin(n: number): Uint8Array {
    this.need(n, "binary");
    this.pos += n;
    return this.bytes.slice(this.pos - n, this.pos);
  }

  private enter(depth: number, at: number): number {
    if (depth >= this.maxDepth)
      throw new CodecError("too_deep", `value nests deeper than ${this.maxDepth}`, at);
    return depth + 1;
  }

  private array(n: number, depth: number, at: number): MixValue[] {
    this.need(n, "an array");
    const next = this.enter(depth, at);
    const out = new Array<MixValue>(n);
    for (let i = 0; i < n; i++) out[i] = this.read(next);
    return out;
  }

  private map(n: number, depth: number, at: number): MixMap {
    this.need(2 * n, "a map");
    const next = this.enter(depth, at);
    const out: MixMap = {};
    for (let i = 0; i < n; i++) {
      const keyAt = this.pos;
      const b = this.bytes[this.pos]!;
      let length: number;
      if (b >= 0xa0 && b < 0xc0) {
        this.pos++;
        length = b & 0x1f;
      } else if (b === 0xd9) {
        this.pos++;
        length = this.u8();
      } else if (b === 0xda) {
        this.pos++;
        length = this.u16();
      } else if (b === 0xdb) {
        this.pos++;
        length = this.u32();
      } else {
        throw new CodecError("bad_msgpack", "a map key must be a string", keyAt);
      }
      const key = length <= MAX_CACHED_KEY && !this.strictUtf8 ? this.cachedKey(length) : this.text(length);
      const value = this.read(next);
      if (key === "__proto__") setEntry(out, key, value);
      else out[key] = value;
    }
    return out;
  }

  private ext(n: number, depth: number, at: number): MixValue {
    this.need(n + 1, "an extension");
    const type = (this.bytes[this.pos++]! << 24) >> 24;
    const end = this.pos + n;
    let value: MixValue;
    switch (type) {
      case EXT_UNDEFINED:
        value = undefined;
        break;
      case EXT_PLAIN_STRING:
        value = this.text(n);
        break;
      case EXT_TAGGED: {
        const s = this.text(n);
        const close = s.indexOf("}");
        if (s.charCodeAt(0) !== 0x7b || close < 0) {
          throw new CodecError("bad_msgpack", "tagged string without a {tag} prefix", at);
        }
        value = new TaggedString(s.slice(1, close), s.slice(close + 1));
        break;
      }
      case EXT_INT64:
        if (n !== 8) throw new CodecError("bad_msgpack", "an int64 extension holds 8 bytes", at);
        value = this.view.getBigInt64(this.pos);
        break;
      case EXT_OPAQUE:
      case EXT_HANDLE: {
        if (n % 4 !== 0) throw new CodecError("bad_msgpack", "word payload not a multiple of 4 bytes", at);
        const words = new Uint32Array(n / 4);
        for (let i = 0; i < words.length; i++) words[i] = this.view.getUint32(this.pos + 4 * i, true);
        value = type === EXT_OPAQUE ? new MixOpaque(words) : new MixHandle(words);
        break;
      }
      case EXT_CASE:
      case EXT_TOKEN:
        value = this.nested(type, end, this.enter(depth, at), at);
        break;
      default:
        throw new CodecError("unsupported", `unknown msgpack extension type ${type}`, at);
    }
    this.pos = end;
    return value;
  }

  /** Reads a case or token whose payload is msgpack, within the extension's bounds. */
  private nested(type: number, end: number, depth: number, at: number): MixValue {
    const inner = new MsgpackReader(this.bytes, end, this.maxDepth, this.strictUtf8, this.keys, false);
    inner.pos = this.pos;
    const parts = inner.read(depth);
    if (inner.pos !== end)
      throw new CodecError("bad_msgpack", "extension payload has trailing bytes", inner.pos);
    if (type === EXT_CASE) {
      if (
        Array.isArray(parts) &&
        (parts.length === 1 || parts.length === 2) &&
        typeof parts[0] === "string"
      ) {
        return new MixCase(parts[0], parts[1]);
      }
      throw new CodecError("bad_msgpack", "a case extension holds [name] or [name, arg]", at);
    }
    if (Array.isArray(parts) && parts.length === 3) {
      const [ops, data, extras] = parts;
      if (typeof ops === "number" && ops >= 0 && ops <= 0xffffffff && Number.isInteger(ops)) {
        if (data instanceof Uint8Array && isMixMap(extras)) return new MixToken(ops, data, extras);
      }
    }
    throw new CodecError("bad_msgpack", "a token extension holds [enabledOps, data, extras]", at);
  }
}

/** Decodes one msgpack value (an `.mp` entry of a `.remix` archive) into a Mix value. */
export function decodeMsgpack(bytes: Uint8Array, options: MsgpackDecodeOptions = {}): MixValue {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (bytes.length > maxBytes) {
    throw new CodecError(
      "too_large",
      `input of ${bytes.length} bytes exceeds the limit of ${maxBytes}`,
      maxBytes,
    );
  }
  const reader = new MsgpackReader(
    bytes,
    bytes.length,
    options.maxDepth ?? DEFAULT_MAX_DEPTH,
    options.strictUtf8 ?? false,
    keyCache,
    true,
  );
  const value = withStackGuard(() => reader.read(0));
  if (reader.pos !== bytes.length) {
    throw new CodecError("bad_msgpack", `${bytes.length - reader.pos} bytes after the value`, reader.pos);
  }
  return value;
}
