import type { MixMap } from "@amp/codec";
import { QueryTooCostlyError } from "../errors.js";
import { type Expr, type IndexRange, type Plan, plan, type Query, runQuery } from "../query/index.js";

export interface StoreQueryResult {
  readonly documents: MixMap[];
  /** Cursor for the next page (pass it as the query's `after`), when there is one. */
  readonly next?: string;
  /** How the filter ran: through the index on a field, or as a full scan. */
  readonly plan: "scan" | `index:${string}`;
}

/** Most documents one query may examine (read and test against its filter), unless the store says otherwise. */
export const DEFAULT_MAX_EXAMINED = 100_000;

/** What a query reads from a store: the store itself on the main thread, raw LMDB tables in the query worker. */
export interface StoreReader {
  readonly indexedFields: readonly string[];
  /** Documents in the store (a scan examines them all). */
  readonly count: number;
  get(id: string): MixMap | undefined;
  allDocuments(): Iterable<MixMap>;
  /** Ids whose index key for `field` lies in `range`, in key order. */
  indexIds(field: string, range: IndexRange): Iterable<string>;
}

/**
 * Runs a query against a store, on the calling thread: the planner picks an index
 * (equality, `in`, ranges, prefix on an indexed field) or a scan; the reference executor
 * then applies the residual filter, sort, cursor, offset, limit and projection. Both paths
 * give the same result. A query that would examine more than `maxExamined` documents
 * (default: the store's limit) throws `QueryTooCostlyError`.
 *
 * This blocks the event loop for as long as the query runs; `DocumentStore.query` runs
 * expensive queries on the query worker instead.
 */
export function runStoreQuery(
  store: StoreReader & { readonly maxExamined?: number },
  query: Query,
  maxExamined = store.maxExamined ?? DEFAULT_MAX_EXAMINED,
): StoreQueryResult {
  return executePlan(store, query, plan(query, store.indexedFields), maxExamined);
}

/**
 * Runs `query` with an already chosen plan (the planner's answer for the reader's indexed fields).
 * `ids`: the index plan's ids, already read (`collectIndexIds`), so the index is not read twice.
 */
export function executePlan(
  reader: StoreReader,
  query: Query,
  chosen: Plan,
  maxExamined: number,
  ids?: readonly string[],
): StoreQueryResult {
  let result: ReturnType<typeof runQuery>;
  if (chosen.kind === "scan") {
    checkScanCost(reader.count, query, chosen, maxExamined);
    result = runQuery(query, reader.allDocuments());
  } else {
    const { filter: _covered, ...rest } = query;
    const narrowed: Query = chosen.residual ? { ...rest, filter: chosen.residual } : rest;
    const docs =
      ids !== undefined && ids.length <= maxExamined
        ? documentsOf(reader, ids)
        : candidates(reader, query, chosen, maxExamined);
    result = runQuery(narrowed, docs);
  }
  const how = chosen.kind === "scan" ? "scan" : (`index:${chosen.field}` as const);
  return result.cursor === undefined
    ? { documents: result.documents, plan: how }
    : { documents: result.documents, next: result.cursor, plan: how };
}

/** Throws `QueryTooCostlyError` when a scan of `count` documents is over the limit. */
export function checkScanCost(count: number, query: Query, chosen: Plan, maxExamined: number): void {
  if (count > maxExamined) throw tooCostly(query, chosen, `${count}`, maxExamined);
}

function* candidates(
  reader: StoreReader,
  query: Query,
  chosen: Extract<Plan, { kind: "index" }>,
  maxExamined: number,
): Generator<MixMap> {
  let examined = 0;
  for (const range of chosen.ranges) {
    for (const id of reader.indexIds(chosen.field, range)) {
      if (++examined > maxExamined) throw tooCostly(query, chosen, `more than ${maxExamined}`, maxExamined);
      const doc = reader.get(id);
      if (doc) yield doc;
    }
  }
}

function* documentsOf(reader: StoreReader, ids: readonly string[]): Generator<MixMap> {
  for (const id of ids) {
    const doc = reader.get(id);
    if (doc) yield doc;
  }
}

/**
 * The ids an index plan reads, in plan order, when there are at most `atMost` of them; undefined
 * past it (reading stops at `atMost + 1`). Reads keys, not documents: the inline path's estimate
 * and its candidates in one pass.
 */
export function collectIndexIds(
  reader: StoreReader,
  chosen: Extract<Plan, { kind: "index" }>,
  atMost: number,
): string[] | undefined {
  const ids: string[] = [];
  for (const range of chosen.ranges) {
    for (const id of reader.indexIds(chosen.field, range)) {
      if (ids.length >= atMost) return undefined;
      ids.push(id);
    }
  }
  return ids;
}

/**
 * Index entries the plan would read, counted up to `atMost + 1` (a scan: the store's count).
 * Cheap next to running the query: it reads keys, not documents.
 */
export function estimateExamined(reader: StoreReader, chosen: Plan, atMost: number): number {
  if (chosen.kind === "scan") return reader.count;
  let n = 0;
  for (const range of chosen.ranges) {
    for (const _ of reader.indexIds(chosen.field, range)) if (++n > atMost) return n;
  }
  return n;
}

/** The refusal, naming the filter's fields that no index served. */
function tooCostly(query: Query, chosen: Plan, examined: string, limit: number): QueryTooCostlyError {
  const unserved = chosen.kind === "scan" ? query.filter : chosen.residual;
  const fields = unserved ? fieldsOf(unserved) : [];
  const through = chosen.kind === "index" ? ` through the index on \`${chosen.field}\`` : "";
  const hint =
    fields.length === 0
      ? chosen.kind === "scan"
        ? "it has no filter: filter on an indexed field"
        : "narrow the filter on the indexed field"
      : fields.length === 1
        ? `add an index on \`${fields[0]}\``
        : `add an index on one of ${fields
            .slice(0, 8)
            .map((f) => `\`${f}\``)
            .join(", ")}${fields.length > 8 ? ", …" : ""}`;
  return new QueryTooCostlyError(
    fields,
    limit,
    `this query would examine ${examined} documents${through}, over the limit of ${limit}: ${hint}`,
  );
}

/** The fields (dotted paths) an expression tests, in first-seen order. */
function fieldsOf(e: Expr, out: string[] = []): string[] {
  if (e.op === "and" || e.op === "or") for (const a of e.args) fieldsOf(a, out);
  else if (e.op === "not") fieldsOf(e.arg, out);
  else {
    const field = e.path.join(".");
    if (!out.includes(field)) out.push(field);
  }
  return out;
}
