export { crc32 } from "./crc32.js";
export { CodecError, type CodecErrorCode } from "./errors.js";
export {
  decodeTaggedJson,
  encodeTaggedJson,
  fromTaggedJson,
  type TaggedJsonDecodeOptions,
  type TaggedJsonOptions,
  toTaggedJson,
} from "./json/index.js";
export {
  decodeMsgpack,
  encodeMsgpack,
  type MsgpackDecodeOptions,
  type MsgpackEncodeOptions,
} from "./msgpack/index.js";
export { type QcodeSummary, readQcode } from "./qcode.js";
export { decodeRmx, encodeRmx, type RmxDecodeOptions, type RmxEncodeOptions } from "./rmx/index.js";
export { mixCase, mixMap, ref, setEntry, tagged } from "./value/construct.js";
export { mixEqual } from "./value/equal.js";
export {
  isBinary,
  isCase,
  isHandle,
  isMixArray,
  isMixMap,
  isOpaque,
  isRef,
  isTaggedString,
  isToken,
  kindOf,
  type MixKind,
} from "./value/guards.js";
export {
  MixCase,
  MixHandle,
  type MixMap,
  MixOpaque,
  MixToken,
  type MixValue,
  TaggedString,
} from "./value/types.js";
