import type { MixMap, MixValue } from "@amp/codec";
import type { Database, RootDatabase } from "lmdb";
import { AppsError } from "../errors.js";
import {
  fieldPath,
  type IndexRange,
  indexKey,
  keyBounds,
  type Path,
  TYPE_FIELD,
  valueAt,
} from "../query/index.js";

const FIELDS_KEY = "indexedFields";

export interface IndexChange {
  readonly id: string;
  readonly key: Buffer;
  readonly remove: boolean;
}

/**
 * Secondary indexes of one app: a dupSort table whose key is
 * `<field> 0x00 <indexKey of the value>` and whose values are document ids.
 * Maintained inside the same transaction as the document write; read through
 * the query planner's key ranges.
 */
export class IndexSet {
  private readonly table: Database<string, Buffer>;
  private indexed: string[];
  /** Per field, precomputed for the write path: its key prefix, its path and its recent keys. */
  private layout: FieldLayout[] = [];

  constructor(env: RootDatabase, fields: readonly string[]) {
    this.table = env.openDB(INDEX_TABLE);
    this.indexed = [];
    this.setFields(fields);
  }

  get fields(): readonly string[] {
    return this.indexed;
  }

  setFields(fields: readonly string[]): void {
    this.indexed = normalizeIndexedFields(fields);
    this.layout = this.indexed.map((field) => ({
      field,
      prefix: fieldPrefix(field),
      path: fieldPath(field),
      recent: new Map(),
    }));
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

  /**
   * The index entries to move for `id` going from `before` to `after`. Computed
   * apart from `apply` so that a writer can do everything that may throw before
   * its first put.
   */
  changes(id: string, before: MixMap | undefined, after: MixMap | undefined): IndexChange[] {
    const out: IndexChange[] = [];
    for (const field of this.layout) {
      const oldKey = before && entryKey(field, before);
      const newKey = after && entryKey(field, after);
      if (oldKey && newKey && oldKey.equals(newKey)) continue;
      if (oldKey) out.push({ id, key: oldKey, remove: true });
      if (newKey) out.push({ id, key: newKey, remove: false });
    }
    return out;
  }

  /** Must run inside a write transaction. */
  apply(changes: readonly IndexChange[]): void {
    for (const c of changes) {
      if (c.remove) this.table.remove(c.key, c.id);
      else this.table.put(c.key, c.id);
    }
  }

  /** Must run inside a write transaction: moves `id`'s entries from `before` to `after`. */
  update(id: string, before: MixMap | undefined, after: MixMap | undefined): void {
    this.apply(this.changes(id, before, after));
  }

  /** Ids of documents whose index key for `field` lies in `range` (a planner range), in key order. */
  *ids(field: string, range: IndexRange = {}): Generator<string> {
    for (const { value } of this.table.getRange(indexTableRange(field, range))) yield value;
  }
}

/** The index table (see `IndexSet`): its name and how it is opened, for readers on other threads. */
export const INDEX_TABLE = {
  name: "index",
  dupSort: true,
  keyEncoding: "binary",
  encoding: "string",
} as const;

/** The `getRange` bounds, in the index table, of a field's keys in a planner range. */
export function indexTableRange(field: string, range: IndexRange): { start: Buffer; end: Buffer } {
  const prefix = fieldPrefix(field);
  const { start, end } = keyBounds(range);
  return {
    start: start ? Buffer.concat([prefix, start]) : prefix,
    end: end ? Buffer.concat([prefix, end]) : fieldPrefix(field, 1),
  };
}

function fieldPrefix(field: string, terminator = 0): Buffer {
  return Buffer.concat([Buffer.from(field), Buffer.of(terminator)]);
}

/** Indexed values repeat (types, categories): keys of recent primitive values are built once. */
const RECENT_KEYS = 1024;

interface FieldLayout {
  readonly field: string;
  readonly prefix: Buffer;
  readonly path: Path;
  /** Entry keys of recent primitive values (Map's SameValueZero: -0 and 0 share a key, as in indexKey). */
  readonly recent: Map<MixValue, Buffer>;
}

function entryKey(field: FieldLayout, doc: MixMap): Buffer | undefined {
  const value = valueAt(doc, field.path);
  const primitive = typeof value !== "object" || value === null;
  if (primitive) {
    const known = field.recent.get(value);
    if (known !== undefined) return known;
  }
  const key = indexKey(value);
  if (key === undefined) return undefined;
  const entry = Buffer.concat([field.prefix, key]);
  if (primitive) {
    if (field.recent.size >= RECENT_KEYS) field.recent.clear();
    field.recent.set(value, entry);
  }
  return entry;
}

/** The indexed fields as stored: checked, `_rmx_type` added, unique, sorted. */
export function normalizeIndexedFields(fields: readonly string[]): string[] {
  for (const f of fields) {
    if (f.length === 0 || f.length > 256 || f.includes("\0")) {
      throw new AppsError("bad_request", `invalid index field ${JSON.stringify(f.slice(0, 100))}`);
    }
  }
  return [...new Set([TYPE_FIELD, ...fields])].sort();
}
