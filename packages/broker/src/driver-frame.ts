import { BrokerError } from "./errors.js";

/**
 * The binary driver frames the VM speaks on its MQTT topics (little-endian):
 * `u32 len | u16 type | (u16 code, u32 n, n bytes)* | u16 0 | u32 (len XOR 0xffffffff)`,
 * where `len` counts the bytes from `type` through the terminating zero code.
 */
export const DriverRequest = {
  Create: 0x0101,
  Destroy: 0x0102,
  SendCode: 0x0201,
  LinkCode: 0x0203,
  ToInit: 0x0301,
  ToEnter: 0x0302,
  Return: 0x0303,
  Abort: 0x0305,
  Later: 0x0309,
} as const;

export const DriverReply = {
  ToIdle: 0x0402,
  ToExit: 0x0403,
  ToInitDone: 0x0404,
  ToTimeout: 0x0405,
  ToFFICall: 0x0406,
  ToPanic: 0x0408,
} as const;

/** Parameter codes; int params are 4 bytes (`time` is 8), strings UTF-8, args/result raw bytes. */
export const DriverParam = {
  instID: 0x1000,
  timeout: 0x1001,
  codeID: 0x1002,
  reference: 0x1003,
  tag: 0x1004,
  modname: 0x1005,
  args: 0x1006,
  result: 0x1007,
  name: 0x1008,
  location: 0x1009,
  which: 0x100a,
  errorCode: 0x100b,
  message: 0x100c,
  backtrace: 0x100d,
  entryID: 0x100e,
  coroutine: 0x100f,
  errorProxy: 0x1010,
  withResult: 0x1011,
  fgBusy: 0x1012,
  fgBlocked: 0x1013,
  serial: 0x1014,
  time: 0x1015,
  initFlag: 0x1016,
} as const;

export interface DriverParamEntry {
  /** Non-zero u16 (zero terminates the list). */
  readonly code: number;
  readonly value: Uint8Array;
}

export interface DriverFrame {
  /** u16 message type, e.g. {@link DriverRequest.Create}. */
  readonly type: number;
  readonly params: readonly DriverParamEntry[];
}

/** Frames above this size are refused both ways (the VM's own limit on a value is 2 GiB; ours is lower). */
export const MAX_DRIVER_FRAME_BYTES = 64 * 1024 * 1024;

const bad = (message: string) => new BrokerError("BROKER_BAD_FRAME", message);

export function encodeDriverFrame(frame: DriverFrame): Buffer {
  if (!Number.isInteger(frame.type) || frame.type < 0 || frame.type > 0xffff) {
    throw bad(`frame type ${frame.type} is not a u16`);
  }
  let len = 2 + 2;
  for (const p of frame.params) {
    if (!Number.isInteger(p.code) || p.code < 1 || p.code > 0xffff) {
      throw bad(`param code ${p.code} is not a non-zero u16`);
    }
    len += 6 + p.value.length;
  }
  if (len + 8 > MAX_DRIVER_FRAME_BYTES) throw bad(`frame of ${len + 8} bytes exceeds the limit`);
  const out = Buffer.allocUnsafe(len + 8);
  out.writeUInt32LE(len, 0);
  out.writeUInt16LE(frame.type, 4);
  let at = 6;
  for (const p of frame.params) {
    out.writeUInt16LE(p.code, at);
    out.writeUInt32LE(p.value.length, at + 2);
    out.set(p.value, at + 6);
    at += 6 + p.value.length;
  }
  out.writeUInt16LE(0, at);
  out.writeUInt32LE((len ^ 0xffffffff) >>> 0, at + 2);
  return out;
}

/** Decodes one frame; every inconsistency is a `BROKER_BAD_FRAME` error, never a partial frame. */
export function decodeDriverFrame(bytes: Uint8Array): DriverFrame {
  if (bytes.length > MAX_DRIVER_FRAME_BYTES) throw bad(`frame of ${bytes.length} bytes exceeds the limit`);
  if (bytes.length < 12) throw bad(`frame of ${bytes.length} bytes is shorter than the minimum 12`);
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const len = view.readUInt32LE(0);
  if (len + 8 !== view.length) throw bad(`length field ${len} does not match ${view.length - 8} bytes`);
  if (view.readUInt32LE(view.length - 4) !== (len ^ 0xffffffff) >>> 0)
    throw bad("length check word mismatch");
  const type = view.readUInt16LE(4);
  const end = view.length - 4;
  const params: DriverParamEntry[] = [];
  let at = 6;
  for (;;) {
    if (at + 2 > end) throw bad("param list is not terminated");
    const code = view.readUInt16LE(at);
    at += 2;
    if (code === 0) break;
    if (at + 4 > end) throw bad(`param 0x${code.toString(16)} is cut off`);
    const n = view.readUInt32LE(at);
    at += 4;
    if (n > end - at) throw bad(`param 0x${code.toString(16)} claims ${n} bytes past the end`);
    params.push({ code, value: Uint8Array.prototype.slice.call(view, at, at + n) });
    at += n;
  }
  if (at !== end) throw bad(`${end - at} stray bytes after the terminator`);
  return { type, params };
}

/** Typed views on param values. */
export const driverValue = {
  int4(value: number): Uint8Array {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0);
    return b;
  },
  int8(value: bigint): Uint8Array {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, value));
    return b;
  },
  string(value: string): Uint8Array {
    return Buffer.from(value, "utf8");
  },
  readInt4(value: Uint8Array): number {
    if (value.length !== 4) throw bad(`int param has ${value.length} bytes, not 4`);
    return Buffer.from(value.buffer, value.byteOffset, 4).readUInt32LE(0);
  },
  readInt8(value: Uint8Array): bigint {
    if (value.length !== 8) throw bad(`int param has ${value.length} bytes, not 8`);
    return Buffer.from(value.buffer, value.byteOffset, 8).readBigUInt64LE(0);
  },
  readString(value: Uint8Array): string {
    return Buffer.from(value.buffer, value.byteOffset, value.length).toString("utf8");
  },
};
