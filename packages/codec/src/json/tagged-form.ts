/**
 * The shape of tagged JSON, shared by the encoder, the decoder and the
 * `toJSON` methods of the value classes. Special values become objects
 * `{"_rmx_type": "{tag}<kind>", "_rmx_value": ...}`, as the Groovebox's JS host writes them.
 */

export const TYPE_KEY = "_rmx_type";
export const VALUE_KEY = "_rmx_value";
export const TAG_PREFIX = "{tag}";
/** Prefix that escapes a user map's own `_rmx_type` string when it looks like a tag. */
export const STR_PREFIX = "{str}";
export const CASE_PREFIX = "{tag}case:";
/** Refs travel as the case `db.ref` carrying the id, as the JS host writes them. */
export const REF_CASE = "db.ref";

/**
 * Kinds that `{tag}<kind>` names for something other than a tagged string. A
 * tagged string whose tag (before any ":annotation") is one of these travels
 * in its raw form under `{tag}tag` so it cannot be misread.
 */
const RESERVED = new Set([
  "undefined",
  "null",
  "nan",
  "posinf",
  "neginf",
  "str",
  "bin",
  "handle",
  "tag",
  "case",
  "int64",
  "opaque",
  "token",
]);

const REF_TYPE = CASE_PREFIX + REF_CASE;
const TAGGED_TYPE = `${TAG_PREFIX}tag`;

/**
 * `_rmx_type` strings for case names and tags, built once: a fresh
 * concatenation per value would cost JSON.stringify a flattening each time.
 */
const typeNames = new Map<string, string>();
const MAX_TYPE_NAMES = 4096;

export function typeName(prefix: string, name: string): string {
  const key = prefix + name;
  let flat = typeNames.get(key);
  if (flat === undefined) {
    flat = key;
    if (typeNames.size < MAX_TYPE_NAMES) typeNames.set(key, flat);
  }
  return flat;
}

export interface TypedJson {
  _rmx_type: string;
  _rmx_value?: unknown;
}

/** The JSON form of the tagged string `{tag}value`. */
export function taggedStringJson(tag: string, value: string): TypedJson {
  if (tag === "ref") return { _rmx_type: REF_TYPE, _rmx_value: value };
  const colon = tag.indexOf(":");
  const base = colon < 0 ? tag : tag.slice(0, colon);
  if (RESERVED.has(base)) return { _rmx_type: TAGGED_TYPE, _rmx_value: `{${tag}}${value}` };
  return { _rmx_type: typeName(TAG_PREFIX, tag), _rmx_value: value };
}

/** Whether a user map's `_rmx_type` string would be read as a tag, and so needs the `{str}` prefix. */
export function looksTagged(s: string): boolean {
  return s.charCodeAt(0) === 0x7b && s.indexOf("}") > 0;
}
