export { fromTaggedJson } from "./from-json.js";
export type { TaggedJsonDecodeOptions, TaggedJsonOptions } from "./options.js";
export { decodeTaggedJson, encodeTaggedJson } from "./text.js";
export { toTaggedJson } from "./to-json.js";
