import { MixCase, type MixMap, type MixValue, TaggedString } from "./types.js";

/** `{ref}<id>`: a reference to a document or blob. */
export function ref(id: string): TaggedString {
  return new TaggedString("ref", id);
}

export function tagged(tag: string, value: string): TaggedString {
  return new TaggedString(tag, value);
}

export function mixCase(name: string, arg?: MixValue): MixCase {
  return new MixCase(name, arg);
}

/**
 * Sets a map entry safely: a key named `__proto__` becomes an own property
 * instead of replacing the prototype. Decoders build maps through this.
 */
export function setEntry(map: MixMap, key: string, value: MixValue): void {
  if (key === "__proto__") {
    Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    map[key] = value;
  }
}

/** Builds a map from entries, safely (see `setEntry`). */
export function mixMap(entries: Iterable<readonly [string, MixValue]>): MixMap {
  const map: MixMap = {};
  for (const [k, v] of entries) setEntry(map, k, v);
  return map;
}
