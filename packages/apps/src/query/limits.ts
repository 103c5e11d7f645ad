/**
 * Hard limits on a query. They bound parse time and memory and keep every
 * recursive walk far from the JS stack limit.
 */
export const QUERY_LIMITS = {
  /** Characters (UTF-16 code units) in the string form. */
  maxLength: 16 * 1024,
  /** Nesting of `(`, `!`, `&&`/`||` groups and case literals. */
  maxDepth: 64,
  /** Values in one `in [...]` list. */
  maxInList: 1024,
  /** Segments in one field path. */
  maxPathSegments: 32,
  /** Fields in a projection. */
  maxProjection: 256,
  /** Keys in a sort clause. */
  maxSortKeys: 8,
  /** Largest `limit` and `offset`. */
  maxLimit: 1_000_000,
  maxOffset: 100_000_000,
  /** Nodes in a JSON AST (checked before schema validation). */
  maxAstNodes: 20_000,
} as const;
