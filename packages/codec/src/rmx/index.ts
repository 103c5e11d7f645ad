export { decodeRmx } from "./decode.js";
export { encodeRmx } from "./encode.js";
export type { RmxDecodeOptions, RmxEncodeOptions } from "./options.js";
