import { CodecError } from "./errors.js";
import { decodeRmx } from "./rmx/decode.js";
import type { MixValue } from "./value/types.js";

/** What the `mix_qcode` custom section of compiled app code says about the app. */
export interface QcodeSummary {
  /** The format marker, "qcode-5" for current compiler output. */
  version: string;
  /** Runtime builtins the code calls (implemented inside the Groovebox). */
  builtins: string[];
  /** FFIs the code may call (answered by the host: `$db_*`, `$http_do`, `$outputWithVersion`, ...). */
  ffis: string[];
  /** The whole decoded section. */
  value: MixValue;
}

/**
 * Decodes a `mix_qcode` section (read it with `WebAssembly.Module.customSections`),
 * checking its CRCs as the compiler writes them. The layout seen in compiler
 * output is `[[version, ...], [builtins, ffis, ...], ...]`; only those parts are interpreted.
 */
export function readQcode(section: Uint8Array): QcodeSummary {
  const value = decodeRmx(section, { checkCrc: true });
  const header = Array.isArray(value) ? value[0] : undefined;
  const names = Array.isArray(value) ? value[1] : undefined;
  const version = Array.isArray(header) ? header[0] : undefined;
  if (typeof version !== "string" || !version.startsWith("qcode-")) {
    throw new CodecError("bad_value", "not a qcode section: no qcode-<n> marker", 0);
  }
  if (!Array.isArray(names) || !isStringList(names[0]) || !isStringList(names[1])) {
    throw new CodecError("bad_value", "qcode section without builtin and FFI name lists", 0);
  }
  return { version, builtins: names[0], ffis: names[1], value };
}

function isStringList(v: MixValue): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}
