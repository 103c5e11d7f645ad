import { randomBytes } from "node:crypto";
import { decodeMsgpack, isMixMap, MixCase, type MixMap, type MixValue, ref, TaggedString } from "@amp/codec";
import { AppsError } from "../errors.js";
import { checkItemName } from "../names.js";

/** Limits applied to every document before it is written. */
export interface DocumentLimits {
  /** Deepest nesting of maps and arrays (default 32). */
  maxDepth: number;
  /** Most keys/elements in the whole document (default 100_000). */
  maxNodes: number;
}

export const DEFAULT_DOCUMENT_LIMITS: DocumentLimits = { maxDepth: 32, maxNodes: 100_000 };

/** System fields the store owns: clients may send them, the store sets them. */
export const SYSTEM_FIELDS = [
  "_rmx_id",
  "_rmx_type",
  "_rmx_rev",
  "_rmx_previous",
  "_rmx_created_at",
  "_rmx_created_by",
  "_rmx_last_modified_at",
  "_rmx_last_modified_by",
] as const;

const ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Random bytes are drawn in blocks: one `randomBytes` call per id costs more than the rest of a write. */
const POOL_SIZE = 8192;
let pool = randomBytes(POOL_SIZE);
let poolOffset = 0;
const idCodes = new Array<number>(32).fill(0);

/** A Remix-style id: 32 base62 characters (rejection-sampled, so uniform). */
export function newId(): string {
  for (let n = 0; n < 32; ) {
    if (poolOffset === POOL_SIZE) {
      pool = randomBytes(POOL_SIZE);
      poolOffset = 0;
    }
    const b = pool[poolOffset++]!;
    if (b < 248) idCodes[n++] = ID_ALPHABET.charCodeAt(b % 62);
  }
  return String.fromCharCode.apply(null, idCodes);
}

/** One document's walk: a class, so that no closure is made per document. */
class DocumentCheck {
  private nodes = 0;
  constructor(private readonly limits: DocumentLimits) {}

  visit(v: MixValue, depth: number): void {
    if (++this.nodes > this.limits.maxNodes)
      throw new AppsError("invalid_document", "document has too many values");
    if (depth > this.limits.maxDepth) {
      throw new AppsError("invalid_document", `document is nested deeper than ${this.limits.maxDepth}`);
    }
    if (typeof v === "string") {
      // UTF-8 has no form for a lone surrogate: the stored string would come back changed.
      if (!v.isWellFormed()) throw new AppsError("invalid_document", "a string holds a lone surrogate");
    } else if (typeof v !== "object" || v === null) {
      // numbers, bigints, booleans, undefined: nothing to check
    } else if (isMixMap(v)) {
      for (const k of Object.keys(v)) {
        if (k === "__proto__") throw new AppsError("invalid_document", "the key __proto__ is not allowed");
        if (!k.isWellFormed()) throw new AppsError("invalid_document", "a key holds a lone surrogate");
        this.visit(v[k], depth + 1);
      }
    } else if (Array.isArray(v)) {
      for (const x of v) this.visit(x, depth + 1);
    } else if (v instanceof TaggedString) {
      // `{tag}value` is how msgpack (and every Mix wire) writes it: a "}" would end the tag early.
      if (v.tag.includes("}")) throw new AppsError("invalid_document", "a tag holds a } character");
      this.visit(v.tag, depth);
      this.visit(v.value, depth);
    } else if (v instanceof MixCase) {
      this.visit(v.name, depth);
      this.visit(v.arg, depth + 1);
    }
  }
}

/**
 * Rejects what the store cannot hold faithfully: too deep, too big, non-map,
 * `__proto__` keys, strings with lone surrogates (UTF-8 cannot carry them),
 * tags holding "}".
 */
export function checkDocument(doc: unknown, limits: DocumentLimits): MixMap {
  if (!isMixMap(doc)) throw new AppsError("invalid_document", "a document is a map");
  new DocumentCheck(limits).visit(doc, 0);
  const id = doc._rmx_id;
  if (id !== undefined && (typeof id !== "string" || !checkItemName(id))) {
    throw new AppsError("invalid_document", "_rmx_id must be a string");
  }
  const type = doc._rmx_type;
  if (typeof type !== "string" || type.length === 0 || type.length > 256) {
    throw new AppsError("invalid_document", "_rmx_type must be a non-empty string");
  }
  return doc;
}

export function revOf(doc: MixMap | undefined): string | undefined {
  const rev = doc?._rmx_rev as TaggedString | undefined;
  return rev && typeof rev === "object" && "value" in rev ? rev.value : undefined;
}

const SYSTEM = new Set<string>(SYSTEM_FIELDS);

/**
 * The stored form of `doc`: system fields set from the previous version (if
 * any) and the actor, then the document's own fields. Built fresh rather than
 * copied and `delete`d, which would leave V8 a slow dictionary-mode object.
 */
export function stampDocument(doc: MixMap, previous: MixMap | undefined, actor: string, now: string): MixMap {
  const out: MixMap = {
    _rmx_id: (doc._rmx_id as string | undefined) ?? newId(),
    _rmx_type: doc._rmx_type,
    _rmx_rev: ref(newId()),
  };
  if (previous) {
    out._rmx_previous = previous._rmx_rev;
    out._rmx_created_at = previous._rmx_created_at;
    out._rmx_created_by = previous._rmx_created_by;
  } else {
    out._rmx_created_at = now;
    out._rmx_created_by = actor;
  }
  out._rmx_last_modified_at = now;
  out._rmx_last_modified_by = actor;
  for (const k of Object.keys(doc)) if (!SYSTEM.has(k)) out[k] = doc[k];
  return out;
}

/**
 * Documents are stored as @amp/codec msgpack, the format of `.remix` entries. LMDB hands
 * back a Buffer that it reuses on the next read, and the decoder copies binary values with
 * `slice`, which on a Buffer is a view: decoding through a plain Uint8Array view makes every
 * binary value a copy of its own (a plain Uint8Array, on every thread).
 */
export function decodeStored(bytes: Uint8Array): MixMap {
  return decodeMsgpack(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)) as MixMap;
}
