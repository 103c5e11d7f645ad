import wabtInit from "wabt";

// The compiler harness and track's msg_compile_* suites both need a real compiler to serve.

/** One diagnostic in the shape Remix clients show (`@amp/compiler`'s `CompileDiagnostic`). */
export interface WatDiagnostic {
  code: string;
  message: string;
  loc_file?: string;
  loc_start_line?: number;
  loc_start_col?: number;
  name_module?: string;
}

/** What the toy compiler answers: `@amp/compiler`'s `CompileOutput`. */
export interface WatCompileOutput {
  code: number;
  details: string;
  errors?: WatDiagnostic[];
  artifacts?: Array<{ name: string; bytes: Uint8Array }>;
}

/**
 * A toy compiler for the tests: WebAssembly text → Wasm with wabt, diagnostics in the shape
 * Remix clients expect. Any compiler plugs into `serveCompiler` the same way.
 */
export async function watCompiler(): Promise<
  (request: { sources: ReadonlyArray<{ name: string; text: string }> }) => Promise<WatCompileOutput>
> {
  const wabt = await wabtInit();
  return async (request) => {
    const errors: WatDiagnostic[] = [];
    const artifacts: Array<{ name: string; bytes: Uint8Array }> = [];
    for (const source of request.sources) {
      const moduleName = source.name.replace(/\.wat$/, "");
      try {
        const module = wabt.parseWat(source.name, source.text);
        try {
          module.validate();
          artifacts.push({ name: `${moduleName}.wasm`, bytes: module.toBinary({}).buffer });
        } finally {
          module.destroy();
        }
      } catch (error) {
        // wabt: "<file>:<line>:<col>: error: <message>"
        const found = /([^\s:]+):(\d+):(\d+): error: ([^\n]+)/.exec((error as Error).message);
        errors.push({
          code: "Compile-syntax",
          message: found ? found[4]! : (error as Error).message,
          ...(found
            ? { loc_file: found[1]!, loc_start_line: Number(found[2]), loc_start_col: Number(found[3]) }
            : { loc_file: source.name }),
          name_module: moduleName,
        });
      }
    }
    return errors.length > 0
      ? { code: 1, details: `${errors.length} error(s)`, errors }
      : { code: 0, details: `built ${artifacts.length} module(s)`, artifacts };
  };
}

/** A module the toy compiler builds: `answer()` returns 42. */
export const WAT_ANSWER = `(module
  (func (export "answer") (result i32)
    i32.const 42))`;

/** A module it refuses with a located diagnostic: an unknown instruction on line 4. */
export const WAT_SYNTAX_ERROR = `(module
  (func (export "answer") (result i32)
    i32.const 1
    i32.bogus))`;
