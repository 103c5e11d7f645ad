import wabtInit from "wabt";

/** Compiles WAT to Wasm at test time (no .wasm is ever committed). */
export async function wat(text: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat("fixture.wat", text);
  try {
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

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

/** A copy of compiled app code whose `mix_grooveboxBuildMin` says `build`. */
export function withBuildMin(app: Uint8Array, build: number): Uint8Array {
  const copy = app.slice();
  const name = new TextEncoder().encode("mix_grooveboxBuildMin");
  for (let i = 0; i + name.length + 4 <= copy.length; i++) {
    if (name.every((b, j) => copy[i + j] === b)) {
      new DataView(copy.buffer).setInt32(i + name.length, build, true);
      return copy;
    }
  }
  throw new Error("no mix_grooveboxBuildMin section");
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

export async function appFixture(initAdd: string, initLink: string): Promise<Uint8Array> {
  return withInt32Sections(await wat(appWat(initAdd, initLink)), {
    mix_tableLength: 0,
    mix_constsLength: 16,
    mix_grooveboxBuildMin: 425,
  });
}
