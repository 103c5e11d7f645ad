// The README's usage example. Run: pnpm --filter @amp/codec exec tsx examples/usage.ts
import {
  CodecError,
  decodeMsgpack,
  decodeRmx,
  decodeTaggedJson,
  encodeMsgpack,
  encodeRmx,
  encodeTaggedJson,
  MixCase,
  mixEqual,
  ref,
} from "../src/index.js";

const doc = {
  _rmx_rev: ref("nmc1QF603y6B"),
  status: new MixCase("order.shipped", { carrier: "dhl" }),
  total: 12.5,
  lines: [1, 2, 3],
};

// RmxCodec: the bytes the Groovebox takes at mixrt_relocateInput and gives back from mixrt_copyYGtoIO.
const block = encodeRmx(doc);
console.log("RmxCodec:", block.length, "bytes, round trip:", mixEqual(decodeRmx(block), doc));

// Tagged JSON: how values travel in HTTP/WebSocket messages and cells.
const json = encodeTaggedJson(doc);
console.log("tagged JSON:", json);
console.log("  round trip:", mixEqual(decodeTaggedJson(json), doc));

// msgpack: the .mp entries of a .remix archive (refs stay "{ref}<id>" strings there).
const mp = encodeMsgpack(doc);
console.log("msgpack:", mp.length, "bytes, round trip:", mixEqual(decodeMsgpack(mp), doc));

// Bad input is always a CodecError with a stable code and the byte offset.
try {
  decodeRmx(new Uint8Array(6));
} catch (e) {
  if (e instanceof CodecError) console.log("bad input:", e.code, "at byte", e.offset);
}
