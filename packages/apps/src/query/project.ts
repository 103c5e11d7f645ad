import { isMixMap, type MixMap, setEntry } from "@amp/codec";
import { outputPath, type ProjectionField } from "./ast.js";
import { valueAt } from "./literal.js";

/**
 * Compiles a projection. `{ a, b.c, x: y }` gives `{a, b: {c}, x}`: a field keeps
 * its path, an alias puts the value under one top-level name. Missing fields are
 * left out. Values are shared with the source document, not copied.
 */
export function compileProjection(fields: readonly ProjectionField[] | undefined): (doc: MixMap) => MixMap {
  if (!fields) return (doc) => doc;
  const targets = fields.map((f) => ({ from: f.path, to: outputPath(f) }));
  return (doc) => {
    const out: MixMap = {};
    for (const { from, to } of targets) {
      const v = valueAt(doc, from);
      if (v === undefined) continue;
      let parent = out;
      for (const seg of to.slice(0, -1)) {
        // Output paths never overlap (the AST forbids it), so an existing entry is a map we made.
        let child = Object.hasOwn(parent, seg) ? parent[seg] : undefined;
        if (!isMixMap(child)) {
          child = {};
          setEntry(parent, seg, child);
        }
        parent = child as MixMap;
      }
      setEntry(parent, to[to.length - 1]!, v);
    }
    return out;
  };
}
