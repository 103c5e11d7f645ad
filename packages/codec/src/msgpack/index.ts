export { decodeMsgpack } from "./decode.js";
export { encodeMsgpack } from "./encode.js";
export type { MsgpackDecodeOptions, MsgpackEncodeOptions } from "./options.js";
