import { readQcode } from "@amp/codec";
import type { ActingUser } from "../acl/user.js";
import type { AppInfo, Apps } from "../apps.js";
import type { ArchiveEntries } from "./read-archive.js";

/**
 * The FFI names a server answers, handed in by whoever composes the server (for amp, from
 * `@amp/track`'s `trackFfiCatalog()`; this package does not know the FFI table itself).
 */
export interface KnownFfis {
  /** Names the server answers with a result. */
  readonly answered: readonly string[];
  /** Names the server refuses by design (their calls abort), with the reason. */
  readonly refused?: Readonly<Record<string, string>>;
}

/** What an imported app's compiled code asks of the server, from its `mix_qcode` sections. */
export interface FfiReport {
  /** Every FFI the app's code names (executable and libraries), sorted. */
  readonly ffis: string[];
  /** Those the server would not answer: no handler, or refused by design. Present when the known FFIs were given. */
  readonly unansweredFfis?: string[];
  /** Code files whose qcode could not be read (not Wasm, no `mix_qcode`, a bad section), with why. */
  readonly unreadable?: Record<string, string>;
}

/** Key of the report in the app store's metadata. */
export const FFI_REPORT_META = "remix:ffiReport";

const QCODE_SECTION = "mix_qcode";
/** Largest custom section read (the samples' are a few KiB). */
const MAX_SECTION_BYTES = 16 * 1024 * 1024;

/**
 * Reads the `mix_qcode` section of every Wasm file under `apps/<app>/libraries/` in the archive and
 * lists the FFIs it names; with `known`, also those the server would not answer. Undefined when
 * the app has no compiled code. A file that cannot be read is listed, never fatal to the import.
 */
export function ffiReport(entries: ArchiveEntries, app: string, known?: KnownFfis): FfiReport | undefined {
  const prefix = `apps/${app}/libraries/`;
  const names = new Set<string>();
  const unreadable: Record<string, string> = {};
  let files = 0;
  for (const [path, bytes] of entries) {
    if (!path.startsWith(prefix) || !/\.wasm$/i.test(path)) continue;
    files++;
    try {
      const section = customSection(bytes, QCODE_SECTION);
      if (section === undefined) throw new Error(`no ${QCODE_SECTION} section`);
      for (const name of readQcode(section).ffis) names.add(name);
    } catch (e) {
      unreadable[path.slice(prefix.length)] = e instanceof Error ? e.message : String(e);
    }
  }
  if (files === 0) return undefined;
  const ffis = [...names].sort();
  const report: { -readonly [K in keyof FfiReport]: FfiReport[K] } = { ffis };
  if (known) {
    const answered = new Set(known.answered);
    report.unansweredFfis = ffis.filter((n) => !answered.has(n) || Object.hasOwn(known.refused ?? {}, n));
  }
  if (Object.keys(unreadable).length > 0) report.unreadable = unreadable;
  return report;
}

/** The payload of the first custom section `name` of a Wasm binary, without compiling it. */
export function customSection(wasm: Uint8Array, name: string): Uint8Array | undefined {
  if (wasm.length < 8 || wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) {
    throw new Error("not a Wasm binary");
  }
  let at = 8;
  const u32 = (): number => {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (at >= wasm.length) throw new Error("truncated Wasm binary");
      const b = wasm[at++]!;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    throw new Error("bad LEB128 in Wasm binary");
  };
  while (at < wasm.length) {
    const id = wasm[at++]!;
    const size = u32();
    const end = at + size;
    if (end > wasm.length) throw new Error("truncated Wasm section");
    if (id === 0) {
      const length = u32();
      const sectionName = new TextDecoder().decode(wasm.subarray(at, at + length));
      at += length;
      if (sectionName === name) {
        if (end - at > MAX_SECTION_BYTES) throw new Error(`${name} section over ${MAX_SECTION_BYTES} bytes`);
        return wasm.subarray(at, end);
      }
    }
    at = end;
  }
  return undefined;
}

/** An imported app's info with what its code asks of the server (see `FfiReport`). */
export type ImportedAppInfo = AppInfo & Partial<Pick<FfiReport, "ffis" | "unansweredFfis">>;

/**
 * After an app is registered: computes its FFI report, keeps it in the app's metadata
 * (`FFI_REPORT_META`), logs the FFIs the server would not answer, and returns the app's info with
 * `ffis` and `unansweredFfis`.
 */
export async function recordFfiReport(
  apps: Apps,
  user: ActingUser,
  info: AppInfo,
  entries: ArchiveEntries,
  known: KnownFfis | undefined,
): Promise<ImportedAppInfo> {
  const report = ffiReport(entries, info.name, known);
  if (!report) return info;
  await (await apps.store(user, info.name, ["allowed_build"])).setMeta(FFI_REPORT_META, report);
  if (report.unreadable) {
    apps.logger.warn(
      { app: info.name, unreadable: report.unreadable },
      "remix import: app code without a readable qcode",
    );
  }
  if (report.unansweredFfis && report.unansweredFfis.length > 0) {
    const refused = known?.refused ?? {};
    apps.logger.warn(
      {
        app: info.name,
        unansweredFfis: report.unansweredFfis,
        refused: Object.fromEntries(
          report.unansweredFfis.filter((n) => Object.hasOwn(refused, n)).map((n) => [n, refused[n]]),
        ),
      },
      `remix import: ${info.name} names ${report.unansweredFfis.length} FFI(s) this server does not answer: ${report.unansweredFfis.join(", ")}`,
    );
  }
  return {
    ...info,
    ffis: report.ffis,
    ...(report.unansweredFfis ? { unansweredFfis: report.unansweredFfis } : {}),
  };
}
