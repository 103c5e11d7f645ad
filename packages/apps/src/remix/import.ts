import { extname } from "node:path";
import { isMixMap, type MixMap, type MixValue, ref } from "@amp/codec";
import type { ActingUser } from "../acl/user.js";
import type { Apps } from "../apps.js";
import { AppsError, UnsupportedRemixVersionError } from "../errors.js";
import { checkAppName } from "../names.js";
import type { AppBuild } from "../store/engine.js";
import type { DocumentStore, WriteOp } from "../store/store.js";
import { type ImportedAppInfo, type KnownFfis, recordFfiReport } from "./ffi-report.js";
import { APP_RECORD_ID, contentTypeOf, LIBRARY_TYPE_PREFIX, META, REMIX_FORMAT_MAJOR } from "./layout.js";
import { type ArchiveLimits, DEFAULT_ARCHIVE_LIMITS, type ProgressCallback } from "./limits.js";
import { type ArchiveEntries, readArchive } from "./read-archive.js";
import { decodeRemixMsgpack } from "./remix-msgpack.js";

export interface ImportOptions {
  readonly limits?: Partial<ArchiveLimits>;
  readonly onProgress?: ProgressCallback;
  /**
   * The FFIs the server answers: each imported app then reports the ones its code names that the
   * server would not answer (`unansweredFfis` on its info, a log line, and the app's metadata).
   */
  readonly ffis?: KnownFfis;
}

/**
 * Imports a `.remix` archive: every app its manifest lists is created with its
 * app record, records, resources, public files and executables
 * (`_rmx_type` = library name, `variant` = file extension, `dataRef` = blob ref).
 * Apps are built in storage that is not yet visible (`Apps.beginBuild`) and registered only when all are
 * complete, so a bad archive leaves nothing behind.
 */
export async function importRemix(
  apps: Apps,
  user: ActingUser,
  source: AsyncIterable<Uint8Array>,
  options: ImportOptions = {},
): Promise<ImportedAppInfo[]> {
  if (!apps.mayCreateApps(user)) throw new AppsError("forbidden", "you may not create apps");
  const limits = { ...DEFAULT_ARCHIVE_LIMITS, ...options.limits };
  const started = Date.now();
  const entries = await readArchive(source, limits, (progress) => {
    apps.logger.info({ ...progress, user: user.id }, "remix import progress");
    options.onProgress?.(progress);
  });
  const manifest = parseManifest(entries);
  const names = Object.keys(manifest.apps as MixMap);
  if (names.length === 0) throw new AppsError("bad_archive", "the manifest lists no apps");
  const records = recordsByApp(entries, names);

  const built: { build: AppBuild; displayName: string }[] = [];
  const registered: string[] = [];
  try {
    for (const name of names) {
      checkAppName(name);
      const build = await apps.beginBuild(name);
      built.push({ build, displayName: name });
      built[built.length - 1]!.displayName = await buildApp(
        user,
        build.store,
        entries,
        manifest,
        records[name] ?? [],
      );
    }
    const infos: ImportedAppInfo[] = [];
    while (built.length > 0) {
      const b = built.shift()!;
      const info = await apps.register(user, b.build, { displayName: b.displayName });
      registered.push(b.build.app);
      infos.push(await recordFfiReport(apps, user, info, entries, options.ffis));
    }
    apps.logger.info({ apps: names, user: user.id, ms: Date.now() - started }, "remix imported");
    return infos;
  } catch (err) {
    for (const b of built) await apps.discardBuild(b.build).catch(() => {});
    for (const name of registered) await apps.delete(user, name).catch(() => {});
    throw err;
  }
}

function json(entries: ArchiveEntries, path: string): unknown {
  const bytes = entries.get(path);
  if (!bytes) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw new AppsError("bad_archive", `${path} is not valid JSON`);
  }
}

function parseManifest(entries: ArchiveEntries): MixMap {
  const manifest = json(entries, "manifest.json");
  if (manifest === undefined) throw new AppsError("bad_archive", "manifest.json is missing");
  if (!isMixMap(manifest) || !isMixMap((manifest as MixMap).apps)) {
    throw new AppsError("bad_archive", "manifest.json needs an `apps` object");
  }
  checkFormatVersion((manifest as MixMap).version);
  return manifest as MixMap;
}

/** `version` absent (an older archive) or `<major>.<minor>` with a major this code reads. */
export function checkFormatVersion(version: unknown): void {
  if (version === undefined) return;
  const match = typeof version === "string" ? /^(\d{1,6})\.(\d{1,6})$/.exec(version) : null;
  if (!match)
    throw new AppsError("bad_archive", 'manifest.json: `version` must be "<major>.<minor>", e.g. "2.1"');
  if (Number(match[1]) > REMIX_FORMAT_MAJOR) throw new UnsupportedRemixVersionError(version as string);
}

/** records.mp: a map app name → array of records (an empty map when there are none). */
function recordsByApp(entries: ArchiveEntries, names: string[]): Record<string, MixMap[]> {
  const bytes = entries.get("records.mp");
  if (!bytes) return {};
  const value = decodeRemixMsgpack(bytes, "records.mp");
  if (!isMixMap(value)) throw new AppsError("bad_archive", "records.mp must hold a map");
  const out: Record<string, MixMap[]> = {};
  for (const [app, list] of Object.entries(value)) {
    if (!names.includes(app))
      throw new AppsError("bad_archive", `records.mp names app ${app} not in the manifest`);
    if (!Array.isArray(list) || !list.every(isMixMap)) {
      throw new AppsError("bad_archive", `records.mp: records of ${app} must be an array of maps`);
    }
    out[app] = list as MixMap[];
  }
  return out;
}

async function buildApp(
  user: ActingUser,
  store: DocumentStore,
  entries: ArchiveEntries,
  manifest: MixMap,
  records: MixMap[],
): Promise<string> {
  const name = store.app;
  const prefix = `apps/${name}/`;
  const recordBytes = entries.get(`apps/${name}.mp`);
  if (!recordBytes) throw new AppsError("bad_archive", `apps/${name}.mp is missing`);
  const appRecords = decodeRemixMsgpack(recordBytes, `apps/${name}.mp`);
  const appRecord = Array.isArray(appRecords) ? appRecords[0] : undefined;
  if (!isMixMap(appRecord)) throw new AppsError("bad_archive", `apps/${name}.mp must hold [app record]`);

  const ops: WriteOp[] = [{ op: "restore", doc: { ...appRecord, _rmx_id: APP_RECORD_ID } }];
  for (const record of records) {
    if (typeof record._rmx_id !== "string") throw new AppsError("bad_archive", "a record has no _rmx_id");
    ops.push({ op: "restore", doc: record });
  }
  const extras: Record<string, string> = {};
  const resources = json(entries, `${prefix}resources.json`) as MixMap | undefined;
  const publicFiles = new Set(
    Object.values(resources ?? {}).flatMap((r) =>
      isMixMap(r) && typeof r.identifier === "string" ? [r.identifier] : [],
    ),
  );
  for (const [path, bytes] of entries) {
    if (!path.startsWith(prefix)) {
      if (path !== "manifest.json" && path !== "records.mp" && !/^apps\/[^/]+\.mp$/.test(path)) {
        extras[path] = (await store.blobs.put([bytes])).ref;
      }
      continue;
    }
    const rest = path.slice(prefix.length);
    if (rest === "resources.json" || rest === "runtime.json") continue;
    if (rest.startsWith("libraries/") && !rest.slice(10).includes("/") && extname(rest) !== "") {
      const file = rest.slice(10);
      const variant = extname(file).slice(1);
      const blob = await store.blobs.put([bytes]);
      ops.push({
        op: "upsert",
        doc: {
          _rmx_id: `${LIBRARY_TYPE_PREFIX}${file}`,
          _rmx_type: file.slice(0, -variant.length - 1),
          variant,
          dataRef: ref(blob.ref),
          size: blob.size,
        },
      });
    } else if (rest.startsWith("public/") && publicFiles.has(rest.slice(7))) {
      await store.files.put(rest.slice(7), [bytes], contentTypeOf(rest), user.id, true);
    } else {
      extras[path] = (await store.blobs.put([bytes])).ref;
    }
  }
  await store.write(ops, user.id);
  const runtime = json(entries, `${prefix}runtime.json`);
  if (runtime !== undefined) await store.setMeta("runtime.json", runtime);
  if (resources !== undefined) await store.setMeta("resources.json", resources);
  await store.setMeta(META.manifest, manifestFor(manifest, name));
  await store.setMeta(META.extras, extras);
  const display = appRecord.display_name;
  return typeof display === "string" ? display : name;
}

/** The archive manifest narrowed to one app, kept so that export can write it back. */
function manifestFor(manifest: MixMap, name: string): MixValue {
  return { ...manifest, apps: { [name]: true } };
}
