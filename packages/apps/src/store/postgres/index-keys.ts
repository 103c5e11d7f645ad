import { createHash } from "node:crypto";
import type { MixMap, MixValue } from "@amp/codec";
import { fieldPath, type IndexRange, indexKey, keyBounds, type Path, valueAt } from "../../query/index.js";
import { sqlLiteral } from "./database.js";

/** Indexed values repeat (types, categories): the hex keys of recent primitive values are kept. */
const RECENT_KEYS = 1024;

/**
 * The `keys` column of documents: for each indexed field a document has, the hex of its index
 * key (`indexKey`, the LMDB engine's order-preserving encoding). Compared with `COLLATE "C"`,
 * hex strings sort as their bytes do, so an expression index on `keys->>'field'` orders and
 * ranges exactly as the LMDB index table does.
 */
export class KeyProjection {
  private readonly layout: { field: string; path: Path; recent: Map<MixValue, string> }[];

  constructor(readonly fields: readonly string[]) {
    this.layout = fields.map((field) => ({ field, path: fieldPath(field), recent: new Map() }));
  }

  keys(doc: MixMap): Record<string, string> {
    const out: Record<string, string> = {};
    for (const { field, path, recent } of this.layout) {
      const value = valueAt(doc, path);
      const primitive = typeof value !== "object" || value === null;
      let hex = primitive ? recent.get(value) : undefined;
      if (hex === undefined) {
        const key = indexKey(value);
        if (key === undefined) continue;
        hex = Buffer.from(key.buffer, key.byteOffset, key.length).toString("hex");
        if (primitive) {
          if (recent.size >= RECENT_KEYS) recent.clear();
          recent.set(value, hex);
        }
      }
      out[field] = hex;
    }
    return out;
  }
}

/** The indexed expression for `field` (the planner matches it textually, so one spelling for all). */
export function keyExpression(field: string): string {
  return `((keys ->> ${sqlLiteral(field)}) COLLATE "C")`;
}

/** The name of the store's expression index on `field`. */
export function indexName(store: number, field: string): string {
  return `amp_ix_${store}_${createHash("sha256").update(field).digest("hex").slice(0, 16)}`;
}

/** A partial expression index: this store's documents, by the field's key then id. */
export function createIndexSql(store: number, field: string): string {
  return `CREATE INDEX IF NOT EXISTS ${indexName(store, field)} ON amp_docs (${keyExpression(field)}, id) WHERE store = ${store}`;
}

export function dropIndexSql(store: number, field: string): string {
  return `DROP INDEX IF EXISTS ${indexName(store, field)}`;
}

/** The SQL condition (and its values, numbered from `first`) selecting a planner range of `field`. */
export function rangeCondition(
  field: string,
  range: IndexRange,
  first: number,
): { sql: string; values: string[] } {
  const { start, end } = keyBounds(range);
  const parts: string[] = [];
  const values: string[] = [];
  const hex = (k: Uint8Array) => Buffer.from(k.buffer, k.byteOffset, k.length).toString("hex");
  if (start) {
    values.push(hex(start));
    parts.push(`${keyExpression(field)} >= $${first + values.length - 1}`);
  }
  if (end) {
    values.push(hex(end));
    parts.push(`${keyExpression(field)} < $${first + values.length - 1}`);
  }
  if (parts.length === 0) parts.push(`${keyExpression(field)} IS NOT NULL`);
  return { sql: parts.join(" AND "), values };
}
