import { isMixMap, MixCase, type MixMap, type MixValue, TaggedString } from "@amp/codec";
import type { Literal, Path } from "./ast.js";

/** The Mix value a literal stands for: `{$int64}` → bigint, `{$tagged}` → TaggedString, `{$case}` → MixCase. */
export function literalToMix(l: Literal): MixValue {
  if (l === null || typeof l !== "object") return l;
  if ("$int64" in l) return BigInt(l.$int64);
  if ("$tagged" in l) return new TaggedString(l.$tagged, l.value);
  return new MixCase(l.$case, l.arg === undefined ? undefined : literalToMix(l.arg));
}

const ARRAY_INDEX = /^(0|[1-9][0-9]{0,8})$/;

/**
 * The value at `path` in `doc`, or undefined when any step is missing.
 * A step enters a map by key, or an array by a decimal index (`items.0`);
 * it never fans out over array elements.
 */
export function valueAt(doc: MixValue, path: Path): MixValue {
  let v: MixValue = doc;
  for (const seg of path) {
    if (isMixMap(v)) {
      if (!Object.hasOwn(v, seg)) return undefined;
      v = (v as MixMap)[seg];
    } else if (Array.isArray(v) && ARRAY_INDEX.test(seg)) {
      v = v[Number(seg)];
    } else return undefined;
  }
  return v;
}
