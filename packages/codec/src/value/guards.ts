import {
  MixCase,
  MixHandle,
  type MixMap,
  MixOpaque,
  MixToken,
  type MixValue,
  TaggedString,
} from "./types.js";

export function isMixMap(v: unknown): v is MixMap {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export const isTaggedString = (v: unknown): v is TaggedString => v instanceof TaggedString;
export const isRef = (v: unknown): v is TaggedString => v instanceof TaggedString && v.tag === "ref";
export const isCase = (v: unknown): v is MixCase => v instanceof MixCase;
export const isToken = (v: unknown): v is MixToken => v instanceof MixToken;
export const isOpaque = (v: unknown): v is MixOpaque => v instanceof MixOpaque;
export const isHandle = (v: unknown): v is MixHandle => v instanceof MixHandle;
export const isBinary = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
export const isMixArray = (v: unknown): v is MixValue[] => Array.isArray(v);

/** The kind of a Mix value, for switches and error messages. */
export type MixKind =
  | "undefined"
  | "null"
  | "bool"
  | "number"
  | "int64"
  | "string"
  | "tagged"
  | "binary"
  | "array"
  | "map"
  | "case"
  | "token"
  | "opaque"
  | "handle";

export function kindOf(v: MixValue): MixKind {
  switch (typeof v) {
    case "undefined":
      return "undefined";
    case "boolean":
      return "bool";
    case "number":
      return "number";
    case "bigint":
      return "int64";
    case "string":
      return "string";
  }
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (v instanceof Uint8Array) return "binary";
  if (v instanceof TaggedString) return "tagged";
  if (v instanceof MixCase) return "case";
  if (v instanceof MixToken) return "token";
  if (v instanceof MixOpaque) return "opaque";
  if (v instanceof MixHandle) return "handle";
  return "map";
}
