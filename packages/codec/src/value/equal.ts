import { kindOf } from "./guards.js";
import type { MixCase, MixHandle, MixMap, MixOpaque, MixToken, MixValue, TaggedString } from "./types.js";

function sameWords(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameMap(a: MixMap, b: MixMap): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !mixEqual(a[k], b[k])) return false;
  }
  return true;
}

/**
 * Deep structural equality of Mix values. NaN equals NaN; -0 and +0 differ
 * (the codecs preserve the sign); binary compares by bytes; maps ignore key order.
 */
export function mixEqual(a: MixValue, b: MixValue): boolean {
  if (typeof a === "number" && typeof b === "number") return Object.is(a, b);
  if (a === b) return true;
  const kind = kindOf(a);
  if (kind !== kindOf(b)) return false;
  switch (kind) {
    case "array": {
      const x = a as MixValue[];
      const y = b as MixValue[];
      return x.length === y.length && x.every((v, i) => mixEqual(v, y[i]));
    }
    case "map":
      return sameMap(a as MixMap, b as MixMap);
    case "binary":
      return sameWords(a as Uint8Array, b as Uint8Array);
    case "tagged":
      return (
        (a as TaggedString).tag === (b as TaggedString).tag &&
        (a as TaggedString).value === (b as TaggedString).value
      );
    case "case":
      return (a as MixCase).name === (b as MixCase).name && mixEqual((a as MixCase).arg, (b as MixCase).arg);
    case "token": {
      const x = a as MixToken;
      const y = b as MixToken;
      return x.enabledOps === y.enabledOps && sameWords(x.data, y.data) && sameMap(x.extras, y.extras);
    }
    case "opaque":
    case "handle":
      return sameWords((a as MixOpaque | MixHandle).words, (b as MixOpaque | MixHandle).words);
    default:
      return false; // primitives of equal kind were handled by `===` above
  }
}
