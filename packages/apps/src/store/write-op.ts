import type { MixMap } from "@amp/codec";
import { AppsError } from "../errors.js";
import { checkItemName } from "../names.js";
import { checkDocument, type DocumentLimits, revOf, stampDocument } from "./document.js";
import type { WriteOp } from "./store.js";

/** Validates every op of a batch before anything is read or written. */
export function checkOps(ops: readonly WriteOp[], limits: DocumentLimits): void {
  for (const op of ops) {
    if (op.op === "delete") checkItemName(op.id);
    else checkDocument(op.doc, limits);
  }
}

/** What one op does to its document, decided from the op and the document's current version. */
export type OpEffect =
  | { readonly kind: "delete"; readonly id: string }
  | { readonly kind: "put"; readonly doc: MixMap };

/** The op's id (to read its current version first), when it names one. */
export function opId(op: WriteOp): string | undefined {
  return op.op === "delete" ? op.id : (op.doc._rmx_id as string | undefined);
}

/**
 * The write semantics both engines share: `not_found`, `conflict` (exists, rev mismatch),
 * and the stored form of a put (stamped, or exactly as given for `restore`).
 */
export function resolveOp(op: WriteOp, old: MixMap | undefined, actor: string, now: string): OpEffect {
  if (op.op === "delete") {
    if (!old) throw new AppsError("not_found", `no document ${op.id}`);
    if (op.rev !== undefined && op.rev !== revOf(old)) {
      throw new AppsError("conflict", `document ${op.id} has changed (rev mismatch)`);
    }
    return { kind: "delete", id: op.id };
  }
  const id = op.doc._rmx_id as string | undefined;
  if (op.op === "restore") {
    if (id === undefined) throw new AppsError("invalid_document", "a restored document needs _rmx_id");
    return { kind: "put", doc: op.doc };
  }
  if (op.op === "insert" && old) throw new AppsError("conflict", `document ${id} exists`);
  if (op.op === "update" && !old) throw new AppsError("not_found", `no document ${id ?? "(no _rmx_id)"}`);
  const expected = revOf(op.doc);
  if (old && expected !== undefined && expected !== revOf(old)) {
    throw new AppsError("conflict", `document ${id} has changed (rev mismatch)`);
  }
  return { kind: "put", doc: stampDocument(op.doc, old, actor, now) };
}
