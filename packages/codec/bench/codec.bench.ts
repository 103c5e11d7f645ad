/**
 * Encode and decode 10,000 app documents in every format, beside msgpackr,
 * @msgpack/msgpack and JSON.stringify/parse of the same data, in one run.
 * Run: pnpm --filter @amp/codec bench
 */
import { decode as msgpackDecode, encode as msgpackEncode } from "@msgpack/msgpack";
import { Packr } from "msgpackr";
import {
  decodeMsgpack,
  decodeRmx,
  decodeTaggedJson,
  encodeMsgpack,
  encodeRmx,
  encodeTaggedJson,
  mixEqual,
  toTaggedJson,
} from "../src/index.js";
import { appDocuments } from "./documents.js";

const COUNT = 10_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

interface Format {
  name: string;
  /** The value handed to encode: Mix documents for ours, their plain tagged-JSON tree for the peers. */
  input: "mix" | "plain";
  encode: (v: never) => Uint8Array | string;
  decode: (b: never) => unknown;
}

const packr = new Packr({ useRecords: false });
const formats: Format[] = [
  { name: "RmxCodec", input: "mix", encode: encodeRmx, decode: decodeRmx },
  { name: "tagged JSON", input: "mix", encode: encodeTaggedJson, decode: decodeTaggedJson },
  { name: "msgpack (ours)", input: "mix", encode: encodeMsgpack, decode: decodeMsgpack },
  { name: "JSON.stringify/parse", input: "plain", encode: JSON.stringify, decode: JSON.parse },
  {
    name: "@msgpack/msgpack",
    input: "plain",
    encode: (v) => msgpackEncode(v),
    decode: (b) => msgpackDecode(b),
  },
  { name: "msgpackr", input: "plain", encode: (v) => packr.pack(v), decode: (b) => packr.unpack(b) },
];

/**
 * CPU time (user + system) since `start`, in ms. On a machine shared with
 * other work, wall time mostly measures waiting for a core; CPU time does not.
 */
function cpuMs(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

function sizeOf(x: Uint8Array | string): number {
  return typeof x === "string" ? Buffer.byteLength(x) : x.length;
}

function main(): void {
  console.log(`generating ${COUNT} app documents...`);
  const docs = appDocuments(COUNT);
  const plain = docs.map((d) => toTaggedJson(d));
  const results = formats.map((f) => {
    const inputs = (f.input === "mix" ? docs : plain) as never[];
    const encoded = inputs.map((d) => f.encode(d)) as never[];
    if (f.input === "mix") {
      // Every document must survive the trip before its speed counts.
      docs.forEach((d, i) => {
        if (!mixEqual(f.decode(encoded[i]!) as never, d))
          throw new Error(`${f.name} did not round-trip document ${i}`);
      });
    }
    const bytes = encoded.reduce((n, e) => n + sizeOf(e), 0);
    return {
      ...f,
      inputs,
      encoded,
      bytes,
      encodeMs: Number.POSITIVE_INFINITY,
      decodeMs: Number.POSITIVE_INFINITY,
    };
  });
  // Rounds interleave the formats, so that load from other processes falls on all of them alike.
  for (let r = 0; r < ROUNDS; r++) {
    for (const f of results) {
      let t = process.cpuUsage();
      for (let i = 0; i < f.inputs.length; i++) f.encode(f.inputs[i]!);
      f.encodeMs = Math.min(f.encodeMs, cpuMs(t));
      t = process.cpuUsage();
      for (let i = 0; i < f.encoded.length; i++) f.decode(f.encoded[i]!);
      f.decodeMs = Math.min(f.decodeMs, cpuMs(t));
    }
    console.log(`  round ${r + 1}/${ROUNDS} done`);
  }

  const json = results.find((r) => r.name === "JSON.stringify/parse")!;
  const reference = results.find((r) => r.name === "@msgpack/msgpack")!;
  const mbps = (bytes: number, ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(0);
  console.log(
    `\n${COUNT} documents, best of ${ROUNDS} rounds of CPU time; MB/s of each format's own output; time ratios (>1 = slower)`,
  );
  console.log(
    "format".padEnd(22) +
      "size MB".padStart(8) +
      "enc MB/s".padStart(10) +
      "dec MB/s".padStart(10) +
      "enc ms".padStart(8) +
      "dec ms".padStart(8) +
      "  enc/dec vs JSON".padStart(18) +
      "  enc/dec vs @msgpack".padStart(22),
  );
  for (const r of results) {
    const ratio = (a: number, b: number) => (a / b).toFixed(2);
    console.log(
      r.name.padEnd(22) +
        (r.bytes / 1e6).toFixed(2).padStart(8) +
        mbps(r.bytes, r.encodeMs).padStart(10) +
        mbps(r.bytes, r.decodeMs).padStart(10) +
        r.encodeMs.toFixed(0).padStart(8) +
        r.decodeMs.toFixed(0).padStart(8) +
        `${ratio(r.encodeMs, json.encodeMs)} / ${ratio(r.decodeMs, json.decodeMs)}`.padStart(18) +
        `${ratio(r.encodeMs, reference.encodeMs)} / ${ratio(r.decodeMs, reference.decodeMs)}`.padStart(22),
    );
  }
  const tagged = results.find((r) => r.name === "tagged JSON")!;
  const rmx = results.find((r) => r.name === "RmxCodec")!;
  console.log("\ntargets:");
  console.log(
    `  tagged JSON within 1.5x of JSON: encode ${(tagged.encodeMs / json.encodeMs).toFixed(2)}x, decode ${(tagged.decodeMs / json.decodeMs).toFixed(2)}x`,
  );
  console.log(
    `  RmxCodec at least as fast as @msgpack/msgpack: encode ${(rmx.encodeMs / reference.encodeMs).toFixed(2)}x, decode ${(rmx.decodeMs / reference.decodeMs).toFixed(2)}x of its time`,
  );
}

main();
