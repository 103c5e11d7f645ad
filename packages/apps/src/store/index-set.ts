import { isMixMap, type MixMap, type MixValue } from "@amp/codec";
import type { Database, RootDatabase } from "lmdb";

/** Maps a field value to its order-preserving index key, or `undefined` when the value is not indexed. */
export type IndexKeyEncoder = (value: MixValue) => Uint8Array | undefined;

/** A range of index keys for one field; absent bounds are open. */
export interface IndexRange {
  readonly lower?: { readonly key: Uint8Array; readonly inclusive: boolean };
  readonly upper?: { readonly key: Uint8Array; readonly inclusive: boolean };
}

const FIELDS_KEY = "indexedFields";
const ALWAYS_INDEXED = "_rmx_type";

/**
 * Secondary indexes of one app: a dupSort table whose key is
 * `<field> 0x00 <index key of the value>` and whose values are document ids.
 * Maintained inside the same transaction as the document write.
 */
export class IndexSet {
  private readonly table: Database<string, Buffer>;
  private indexed: string[];

  constructor(
    env: RootDatabase,
    fields: readonly string[],
    private readonly encode: IndexKeyEncoder,
  ) {
    this.table = env.openDB({ name: "index", dupSort: true, keyEncoding: "binary", encoding: "string" });
    this.indexed = normalize(fields);
  }

  get fields(): readonly string[] {
    return this.indexed;
  }

  has(field: string): boolean {
    return this.indexed.includes(field);
  }

  setFields(fields: readonly string[]): void {
    this.indexed = normalize(fields);
  }

  needsRebuild(meta: Database<unknown, string>): boolean {
    const stored = meta.get(FIELDS_KEY) as string[] | undefined;
    return stored === undefined || stored.join("\0") !== this.indexed.join("\0");
  }

  /** Must run inside a write transaction. */
  rebuild(meta: Database<unknown, string>, docs: Iterable<MixMap>): void {
    this.table.clearSync();
    for (const doc of docs) this.update(doc._rmx_id as string, undefined, doc);
    meta.put(FIELDS_KEY, this.indexed);
  }

  /** Must run inside a write transaction: moves `id`'s entries from `before` to `after`. */
  update(id: string, before: MixMap | undefined, after: MixMap | undefined): void {
    for (const field of this.indexed) {
      const oldKey = before && this.keyOf(field, before);
      const newKey = after && this.keyOf(field, after);
      if (oldKey && newKey && oldKey.equals(newKey)) continue;
      if (oldKey) this.table.remove(oldKey, id);
      if (newKey) this.table.put(newKey, id);
    }
  }

  /** Document ids whose `field` has an index key in `range`, in key order. */
  *ids(field: string, range: IndexRange): Generator<string> {
    const prefix = Buffer.from(`${field}\0`);
    const start = range.lower ? Buffer.concat([prefix, range.lower.key]) : prefix;
    const end = range.upper ? Buffer.concat([prefix, range.upper.key]) : Buffer.from(`${field}\u0001`);
    for (const { key, value } of this.table.getRange({
      start,
      end: range.upper?.inclusive ? undefined : end,
    })) {
      if (range.lower && !range.lower.inclusive && key.equals(start)) continue;
      if (range.upper?.inclusive && Buffer.compare(key, end) > 0) break;
      yield value;
    }
  }

  private keyOf(field: string, doc: MixMap): Buffer | undefined {
    const value = valueAt(doc, field);
    if (value === undefined) return undefined;
    const key = this.encode(value);
    if (key === undefined) return undefined;
    return Buffer.concat([Buffer.from(`${field}\0`), key]);
  }
}

function normalize(fields: readonly string[]): string[] {
  return [...new Set([ALWAYS_INDEXED, ...fields])].sort();
}

/** The value at a dotted path, or undefined. */
export function valueAt(doc: MixMap, path: string): MixValue {
  let v: MixValue = doc;
  for (const part of path.split(".")) {
    if (!isMixMap(v) || !Object.hasOwn(v, part)) return undefined;
    v = (v as MixMap)[part];
  }
  return v;
}
