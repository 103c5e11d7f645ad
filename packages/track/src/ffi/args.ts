import { isMixMap, type MixMap, type MixValue } from "@amp/codec";
import type { FfiContext } from "@amp/machine";
import type { Session } from "../session/session.js";

/** Finds the session an FFI call comes from. */
export type SessionLookup = (id: string | undefined) => Session | undefined;

export function sessionOf(find: SessionLookup, ctx: FfiContext): Session {
  const session = find(ctx.session);
  if (session === undefined || session.destroyed) throw new Error(`${ctx.name}: the calling session is gone`);
  return session;
}

export function stringArg(args: MixValue[], i: number, ffi: string, what: string): string {
  const v = args[i];
  if (typeof v !== "string") throw new Error(`${ffi}: argument ${i + 1} (${what}) must be a string`);
  return v;
}

export function mapArg(args: MixValue[], i: number, ffi: string, what: string): MixMap {
  const v = args[i];
  if (!isMixMap(v)) throw new Error(`${ffi}: argument ${i + 1} (${what}) must be a map`);
  return v;
}

export function optionalMap(args: MixValue[], i: number, ffi: string): MixMap {
  const v = args[i];
  if (v === undefined || v === null) return {};
  if (!isMixMap(v)) throw new Error(`${ffi}: argument ${i + 1} (options) must be a map`);
  return v;
}

export function numberOf(v: MixValue): number | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "bigint") return Number(v);
  return undefined;
}

/**
 * The error an FFI aborts with: a `TrackError` keeps its stable code in the message
 * (`<ffi>: <code>: <text>`), since only a message reaches the VM.
 */
export function ffiFailure(ffi: string, e: unknown): Error {
  if (e instanceof Error && "code" in e && typeof e.code === "string" && e.code.startsWith("Track-")) {
    return new Error(`${ffi}: ${e.code}: ${e.message}`);
  }
  return new Error(`${ffi}: ${e instanceof Error ? e.message : String(e)}`);
}
