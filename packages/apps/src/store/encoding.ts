import {
  MixCase,
  MixHandle,
  type MixMap,
  MixOpaque,
  MixToken,
  type MixValue,
  TaggedString,
} from "@amp/codec";
import { addExtension, Packr } from "msgpackr";

/*
 * How documents are stored: msgpack via msgpackr, with extension types for the
 * Mix kinds that JSON-like msgpack lacks. 64-bit integers use msgpack int64 and
 * come back as bigint; `-0` is stored as 0. This is the store's private format;
 * @amp/codec's msgpack (used for `.remix` entries) encodes documents about 3×
 * slower here, which the batch-insert target cannot afford.
 */
const EXT_TAGGED = 0x41;
const EXT_CASE = 0x42;
const EXT_TOKEN = 0x43;
const EXT_OPAQUE = 0x44;
const EXT_HANDLE = 0x45;

let registered = false;
function registerExtensions(): void {
  if (registered) return;
  registered = true;
  // Refs are in every document (`_rmx_rev`): one msgpack string `tag NUL value`
  // decodes fastest (measured against an array and raw bytes). Tags never hold NUL.
  addExtension({
    Class: TaggedString,
    type: EXT_TAGGED,
    write: (v: TaggedString) => `${v.tag}\u0000${v.value}`,
    read: (text: string) => {
      const cut = text.indexOf("\u0000");
      return new TaggedString(text.slice(0, cut), text.slice(cut + 1));
    },
  });
  addExtension({
    Class: MixCase,
    type: EXT_CASE,
    write: (v: MixCase) => (v.arg === undefined ? [v.name] : [v.name, v.arg]),
    read: (a: [string, MixValue?]) => new MixCase(a[0], a.length > 1 ? a[1] : undefined),
  });
  addExtension({
    Class: MixToken,
    type: EXT_TOKEN,
    write: (v: MixToken) => [v.enabledOps, v.data, v.extras],
    read: ([ops, data, extras]: [number, Uint8Array, MixMap]) =>
      new MixToken(ops, new Uint8Array(data), extras),
  });
  for (const [Class, type] of [
    [MixOpaque, EXT_OPAQUE],
    [MixHandle, EXT_HANDLE],
  ] as const) {
    addExtension({
      Class,
      type,
      write: (v: MixOpaque | MixHandle) =>
        new Uint8Array(v.words.buffer, v.words.byteOffset, v.words.byteLength),
      read: (b: Uint8Array) => new Class(new Uint32Array(new Uint8Array(b).buffer)),
    });
  }
}

registerExtensions();

const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: "bigint",
  moreTypes: false,
  variableMapSize: true,
});

export function encodeDocument(doc: MixValue): Buffer {
  return packr.pack(doc);
}

export function decodeDocument(bytes: Uint8Array): MixMap {
  return packr.unpack(bytes) as MixMap;
}
