import {
  isMixMap,
  MixCase,
  MixHandle,
  type MixMap,
  MixOpaque,
  MixToken,
  type MixValue,
  setEntry,
  TaggedString,
} from "@amp/codec";
import { AppsError } from "../errors.js";

/*
 * Tagged JSON, the form Mix values take in HTTP bodies (remix-reference.md):
 * `{"_rmx_type":"{tag}<kind>","_rmx_value":v}` for tagged strings, cases,
 * binary, 64-bit integers and the specials.
 * TODO(codec): replace with @amp/codec's tagged JSON once it lands.
 */
const TAG = "{tag}";
const STR = "{str}";

export function toTaggedJson(v: MixValue): unknown {
  switch (typeof v) {
    case "undefined":
      return { _rmx_type: `${TAG}undefined` };
    case "number":
      if (Number.isNaN(v)) return { _rmx_type: `${TAG}nan` };
      if (v === Infinity) return { _rmx_type: `${TAG}posinf` };
      if (v === -Infinity) return { _rmx_type: `${TAG}neginf` };
      return v;
    case "bigint":
      return { _rmx_type: `${TAG}int64`, _rmx_value: v.toString() };
    case "string":
    case "boolean":
      return v;
  }
  if (v === null) return null;
  if (Array.isArray(v)) return v.map(toTaggedJson);
  if (v instanceof Uint8Array)
    return { _rmx_type: `${TAG}bin`, _rmx_value: Buffer.from(v).toString("base64") };
  if (v instanceof TaggedString) return { _rmx_type: `${TAG}${v.tag}`, _rmx_value: v.value };
  if (v instanceof MixCase) {
    return v.arg === undefined
      ? { _rmx_type: `${TAG}case:${v.name}` }
      : { _rmx_type: `${TAG}case:${v.name}`, _rmx_value: toTaggedJson(v.arg) };
  }
  if (v instanceof MixToken || v instanceof MixOpaque || v instanceof MixHandle) {
    throw new AppsError("invalid_document", "tokens, handles and opaque values have no JSON form");
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = (v as MixMap)[k];
    const escaped = k === "_rmx_type" && typeof x === "string" && (x.startsWith(TAG) || x.startsWith(STR));
    out[k] = escaped ? STR + x : toTaggedJson(x);
  }
  return out;
}

/** JSON nested deeper than this is refused before it can exhaust the stack. */
const MAX_JSON_DEPTH = 64;

export function fromTaggedJson(j: unknown, depth = 0): MixValue {
  if (depth > MAX_JSON_DEPTH)
    throw new AppsError("invalid_document", `JSON nested deeper than ${MAX_JSON_DEPTH}`);
  if (j === null || typeof j !== "object") {
    if (typeof j === "string" || typeof j === "number" || typeof j === "boolean" || j === null) return j;
    throw new AppsError("bad_request", "not a JSON value");
  }
  if (Array.isArray(j)) return j.map((x) => fromTaggedJson(x, depth + 1));
  const m = j as Record<string, unknown>;
  const type = m._rmx_type;
  if (typeof type === "string" && type.startsWith(TAG)) return special(type.slice(TAG.length), m, depth);
  const out: MixMap = {};
  for (const k of Object.keys(m)) {
    const x = m[k];
    const unescaped = k === "_rmx_type" && typeof x === "string" && x.startsWith(STR);
    setEntry(out, k, unescaped ? (x as string).slice(STR.length) : fromTaggedJson(x, depth + 1));
  }
  return out;
}

function special(kind: string, m: Record<string, unknown>, depth: number): MixValue {
  const value = m._rmx_value;
  switch (kind) {
    case "undefined":
      return undefined;
    case "nan":
      return Number.NaN;
    case "posinf":
      return Infinity;
    case "neginf":
      return -Infinity;
    case "bin":
      if (typeof value !== "string") throw new AppsError("bad_request", "{tag}bin needs a base64 string");
      return new Uint8Array(Buffer.from(value, "base64"));
    case "int64":
      if (typeof value !== "string" || !/^-?\d{1,20}$/.test(value)) {
        throw new AppsError("bad_request", "{tag}int64 needs a decimal string");
      }
      return BigInt.asIntN(64, BigInt(value));
  }
  if (kind.startsWith("case:")) {
    return new MixCase(kind.slice(5), "_rmx_value" in m ? fromTaggedJson(value, depth + 1) : undefined);
  }
  if (typeof value !== "string") throw new AppsError("bad_request", `{tag}${kind} needs a string value`);
  return new TaggedString(kind, value);
}

/** A document from a JSON body: a tagged-JSON map. */
export function documentFromJson(j: unknown): MixMap {
  const v = fromTaggedJson(j);
  if (!isMixMap(v)) throw new AppsError("invalid_document", "a document is a JSON object");
  return v;
}
