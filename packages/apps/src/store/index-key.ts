import type { MixValue } from "@amp/codec";

// TEMPORARY until src/query exports indexKey: strings and numbers only.
export function indexKeyOf(value: MixValue): Uint8Array | undefined {
  if (typeof value === "string") return Buffer.from(`s${value}\0`);
  return undefined;
}
