import type { MixMap } from "@amp/codec";
import { compileProjection } from "../query/index.js";

/** The fields of `doc` named by dotted paths, with the query language's projection rules. */
export function projectDocument(doc: MixMap, paths: readonly string[]): MixMap {
  return compileProjection(paths.map((p) => ({ path: p.split(".") })))(doc);
}
