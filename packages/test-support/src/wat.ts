import wabtInit from "wabt";

/** No `.wasm` is ever committed: suites compile WebAssembly text to a module at test time. */
export async function wat(text: string, file = "fixture.wat"): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat(file, text);
  try {
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}
