import { leb } from "./wasm-bytes.js";
import { wat } from "./wat.js";

// Machine and track suites both load "compiled Mix apps"; these are the smallest ones the abi loader takes.

/** Appends custom sections holding one little-endian int32 each. */
export function withInt32Sections(wasm: Uint8Array, sections: Record<string, number>): Uint8Array {
  const parts: number[] = [...wasm];
  for (const [name, value] of Object.entries(sections)) {
    const nameBytes = [...new TextEncoder().encode(name)];
    const payload = [...new Uint8Array(new Int32Array([value]).buffer)];
    const body = [...leb(nameBytes.length), ...nameBytes, ...payload];
    parts.push(0, ...leb(body.length), ...body);
  }
  return new Uint8Array(parts);
}

/** Minimal "compiled Mix app" shells: the imports and exports the abi loader expects. */
export function appWat(initAdd: string, initLink: string): string {
  return `(module
    (import "env" "memory" (memory 0))
    (import "env" "table" (table 0 funcref))
    (import "env" "mix_consts" (global i32))
    (import "env" "tableBase" (global i32))
    (func (export "mix_initAdd") ${initAdd})
    (func (export "mix_initLink") ${initLink}))`;
}

/** An app shell with the custom sections a Groovebox build checks (table, consts, minimum build). */
export async function appFixture(initAdd: string, initLink: string): Promise<Uint8Array> {
  return withInt32Sections(await wat(appWat(initAdd, initLink)), {
    mix_tableLength: 0,
    mix_constsLength: 16,
    mix_grooveboxBuildMin: 425,
  });
}
