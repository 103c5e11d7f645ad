import { isMixMap, type MixValue } from "@amp/codec";

/** Depth-first search of a value tree. */
export function findAll(value: MixValue, pred: (v: MixValue) => boolean, out: MixValue[] = []): MixValue[] {
  if (pred(value)) out.push(value);
  if (Array.isArray(value)) for (const v of value) findAll(v, pred, out);
  else if (isMixMap(value)) for (const v of Object.values(value)) findAll(v, pred, out);
  return out;
}

/** All `props.value` texts of `dom_*` nodes in a view tree. */
export function texts(view: MixValue): string[] {
  return findAll(
    view,
    (v) => isMixMap(v) && typeof v._rmx_type === "string" && v._rmx_type.startsWith("dom_"),
  )
    .map((n) => (isMixMap(n) && isMixMap(n.props) ? n.props.value : undefined))
    .filter((t): t is string => typeof t === "string");
}
