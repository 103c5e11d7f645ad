import type { MixMap } from "@amp/codec";
import type { Query } from "./ast.js";
import { comparePositions, decodeCursor, encodeCursor, positionKey } from "./cursor.js";
import { compileFilter } from "./evaluate.js";
import { compileProjection } from "./project.js";

export interface QueryResult {
  /** The page, projected. */
  documents: MixMap[];
  /** Present when more documents follow this page: pass it as `after` for the next one. */
  cursor?: string;
}

/**
 * The reference executor: runs a query over documents in memory.
 * Order of work: filter, sort (by the sort keys, then `_rmx_id`; by `_rmx_id` alone
 * when there is no sort), skip up to the `after` cursor, `offset`, `limit`, project.
 * A store that narrowed the candidates with an index plan calls this with the
 * plan's residual as the filter.
 */
export function runQuery(query: Query, docs: Iterable<MixMap>): QueryResult {
  const filter = compileFilter(query.filter);
  const sort = query.sort ?? [];
  const after = query.after === undefined ? undefined : decodeCursor(query.after, sort);
  const matched: { doc: MixMap; position: Uint8Array }[] = [];
  for (const doc of docs) {
    if (!filter(doc)) continue;
    const position = positionKey(doc, sort);
    if (after && comparePositions(position, after) <= 0) continue;
    matched.push({ doc, position });
  }
  matched.sort((a, b) => comparePositions(a.position, b.position));
  const start = Math.min(query.offset ?? 0, matched.length);
  const end = query.limit === undefined ? matched.length : Math.min(start + query.limit, matched.length);
  const page = matched.slice(start, end);
  const project = compileProjection(query.project);
  const result: QueryResult = { documents: page.map((m) => project(m.doc)) };
  if (end < matched.length && page.length > 0)
    result.cursor = encodeCursor(sort, page[page.length - 1]!.position);
  return result;
}
