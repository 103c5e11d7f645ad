/**
 * The Mix value model: every value that crosses the VM boundary.
 *
 * Scalars map onto JS primitives (undefined, null, boolean, number for f64,
 * bigint for the 64-bit integer, string). Binary is a Uint8Array, an array is a
 * JS array, and a map is a plain object with string keys. The Mix-specific
 * kinds are small classes so that a guard can tell them from a map.
 */
import { CASE_PREFIX, type TypedJson, taggedStringJson, typeName } from "../json/tagged-form.js";

export type MixValue =
  | undefined
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | MixValue[]
  | MixMap
  | TaggedString
  | MixCase
  | MixToken
  | MixOpaque
  | MixHandle;

/** A Mix map. Always a plain object (prototype Object.prototype or null). */
export interface MixMap {
  [key: string]: MixValue;
}

/** A string carrying a tag, written `{tag}value`; refs are `{ref}<id>`. */
export class TaggedString {
  constructor(
    readonly tag: string,
    readonly value: string,
  ) {}

  toString(): string {
    return `{${this.tag}}${this.value}`;
  }

  /** The tagged JSON form, so that `JSON.stringify` writes it directly. */
  toJSON(): TypedJson {
    return taggedStringJson(this.tag, this.value);
  }
}

/** A case (variant) value: a constructor name and an optional argument. */
export class MixCase {
  constructor(
    readonly name: string,
    /** `undefined` means the case carries no argument. */
    readonly arg: MixValue = undefined,
  ) {}

  /** The tagged JSON form, so that `JSON.stringify` writes it directly (an undefined arg is left out). */
  toJSON(): TypedJson {
    const type = typeName(CASE_PREFIX, this.name);
    return this.arg === undefined ? { _rmx_type: type } : { _rmx_type: type, _rmx_value: this.arg };
  }
}

/** An access token value: an enabled-operations bitset, opaque data and extras. */
export class MixToken {
  constructor(
    /** Bitset of enabled operations (bit 0: auth same org, bit 3: tostring, ...). */
    readonly enabledOps: number,
    readonly data: Uint8Array,
    readonly extras: MixMap = {},
  ) {}
}

/** Uninterpreted VM data (tag 12), kept as its raw 32-bit payload words. */
export class MixOpaque {
  constructor(readonly words: Uint32Array) {}
}

/** A handle to a host-side object (tag 6), kept as its raw 32-bit payload words. */
export class MixHandle {
  constructor(readonly words: Uint32Array) {}
}
