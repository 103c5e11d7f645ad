import type { MixMap } from "@amp/codec";
import { type IndexRange, plan, type Query, runQuery } from "../query/index.js";
import type { DocumentStore } from "./document-store.js";

export interface StoreQueryResult {
  readonly documents: MixMap[];
  /** Cursor for the next page (pass it as the query's `after`), when there is one. */
  readonly next?: string;
  /** How the filter ran: through the index on a field, or as a full scan. */
  readonly plan: "scan" | `index:${string}`;
}

/**
 * Runs a query against a store: the planner picks an index (equality, `in`,
 * ranges, prefix on an indexed field) or a scan; the reference executor then
 * applies the residual filter, sort, cursor, offset, limit and projection.
 * Both paths give the same result.
 */
export function runStoreQuery(store: DocumentStore, query: Query): StoreQueryResult {
  const chosen = plan(query, store.indexedFields);
  let result: ReturnType<typeof runQuery>;
  if (chosen.kind === "scan") {
    result = runQuery(query, store.allDocuments());
  } else {
    const { filter: _covered, ...rest } = query;
    const narrowed: Query = chosen.residual ? { ...rest, filter: chosen.residual } : rest;
    result = runQuery(narrowed, candidates(store, chosen.field, chosen.ranges));
  }
  const how = chosen.kind === "scan" ? "scan" : (`index:${chosen.field}` as const);
  return result.cursor === undefined
    ? { documents: result.documents, plan: how }
    : { documents: result.documents, next: result.cursor, plan: how };
}

function* candidates(store: DocumentStore, field: string, ranges: readonly IndexRange[]): Generator<MixMap> {
  for (const range of ranges) {
    for (const id of store.indexSet.ids(field, range)) {
      const doc = store.get(id);
      if (doc) yield doc;
    }
  }
}
