import { MachineError } from "../errors.js";

/** What the custom sections of compiled Mix app code say about it. */
export interface AppCodeInfo {
  tableLength: number;
  constsLength: number;
  /** The oldest Groovebox build the code runs on, when the section is present. */
  grooveboxBuildMin: number | undefined;
}

const GROOVEBOX_EXPORTS = [
  "memory",
  "__indirect_function_table",
  "_initialize",
  "malloc",
  "free",
  "srandom",
  "mixrt_mem_init",
  "mixrt_runYG",
  "mixrt_getState",
  "mixrt_getIO",
  "mixrt_growIO",
  "mixrt_relocateInput",
  "mixrt_relocateOutput",
  "mixrt_copyYGtoIO",
  "mixrt_copyIOtoYG",
  "mixrt_reqInit",
  "mixrt_reqEntry",
  "mixrt_reqReturn",
  "mixrt_reqRunning",
  "mixrt_findEntry",
  "mixrt_initEnvExtract",
];

/** Throws `not_groovebox` unless the module exports what a Groovebox build must. */
export function checkGrooveboxModule(module: WebAssembly.Module): void {
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = GROOVEBOX_EXPORTS.filter((n) => !names.has(n));
  if (missing.length > 0) {
    throw new MachineError(
      "not_groovebox",
      `not a Groovebox build: missing exports ${missing.slice(0, 5).join(", ")}`,
    );
  }
}

function int32Section(module: WebAssembly.Module, name: string): number | undefined {
  const sections = WebAssembly.Module.customSections(module, name);
  if (sections.length === 0) return undefined;
  const section = sections[0]!;
  if (section.byteLength < 4) throw new MachineError("not_groovebox", `custom section ${name} is too short`);
  return new DataView(section).getInt32(0, true);
}

/**
 * Reads and checks the custom sections of compiled app code, and refuses code that
 * needs a newer Groovebox than `build` or imports anything but `env` and `mixrt`.
 */
export function readAppCode(module: WebAssembly.Module, build: number): AppCodeInfo {
  const tableLength = int32Section(module, "mix_tableLength");
  const constsLength = int32Section(module, "mix_constsLength");
  if (tableLength === undefined || constsLength === undefined) {
    throw new MachineError(
      "not_groovebox",
      "not compiled Mix code: no mix_tableLength/mix_constsLength sections",
    );
  }
  if (tableLength < 0 || constsLength < 0 || tableLength > 1 << 24 || constsLength > 1 << 28) {
    throw new MachineError("not_groovebox", "compiled Mix code has implausible table/consts sizes");
  }
  const grooveboxBuildMin = int32Section(module, "mix_grooveboxBuildMin");
  if (grooveboxBuildMin !== undefined && grooveboxBuildMin > build) {
    throw new MachineError(
      "build_too_new",
      `the app needs Groovebox build ${grooveboxBuildMin}, but the loaded build is ${build}`,
    );
  }
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== "env" && imp.module !== "mixrt") {
      throw new MachineError(
        "not_groovebox",
        `compiled Mix code imports from unsupported module ${imp.module}`,
      );
    }
  }
  const exports = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  if (!exports.has("mix_initLink") && !exports.has("mix_init")) {
    throw new MachineError("not_groovebox", "compiled Mix code exports neither mix_initLink nor mix_init");
  }
  return { tableLength, constsLength, grooveboxBuildMin };
}
