import type { MixMap } from "@amp/codec";
import type { Query } from "../query/ast.js";
import { runQuery } from "../query/run.js";
import type { DocumentStore } from "./document-store.js";

export interface StoreQueryResult {
  readonly documents: MixMap[];
  /** Cursor for the next page, when there is one. */
  readonly next?: string;
}

/** Runs a query against a store. */
export function runStoreQuery(store: DocumentStore, query: Query): StoreQueryResult {
  const { documents, cursor } = runQuery(query, store.allDocuments());
  return cursor === undefined ? { documents } : { documents, next: cursor };
}
