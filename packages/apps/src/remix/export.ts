import { isRef, type MixMap } from "@amp/codec";
import { Zip, ZipDeflate } from "fflate";
import type { ActingUser } from "../acl/user.js";
import type { Apps } from "../apps.js";
import { AppsError } from "../errors.js";
import type { DocumentStore } from "../store/store.js";
import { APP_RECORD_ID, LIBRARY_TYPE_PREFIX, META, REMIX_FORMAT_VERSION } from "./layout.js";
import type { ProgressCallback } from "./limits.js";
import { encodeRemixMsgpack } from "./remix-msgpack.js";

/** The export request: like an archive manifest, `apps` names the apps to write. */
export interface ExportManifest {
  readonly apps: Readonly<Record<string, boolean>>;
  readonly [key: string]: unknown;
}

export interface ExportOptions {
  readonly onProgress?: ProgressCallback;
}

/** Fixed entry time so that exporting the same app twice gives the same bytes. */
const MTIME = new Date("1980-01-01T00:00:00Z");
const SYSTEM_KEYS = ["_rmx_id"];
/** A progress log line per this many bytes written. */
const LOG_EVERY = 8 * 1024 * 1024;

/**
 * Writes the named apps as a `.remix` archive (needs `allowed_build` on each;
 * checked before the first byte). The zip is produced as the consumer reads,
 * blob by blob, so a large app never sits in memory whole.
 */
export function exportRemix(
  apps: Apps,
  user: ActingUser,
  manifest: ExportManifest,
  options: ExportOptions = {},
): ReadableStream<Uint8Array> {
  const names = Object.keys(manifest.apps).filter((n) => manifest.apps[n]);
  if (names.length === 0) throw new AppsError("bad_request", "the manifest names no apps");
  for (const name of names) apps.authorize(user, name, ["allowed_build"]);
  const opening = Promise.all(names.map((name) => apps.store(user, name, ["allowed_build"])));
  // Handled here too: a store that fails to open errors the stream, not the process.
  opening.catch(() => {});

  let wake: (() => void) | undefined;
  let entries = 0;
  let bytes = 0;
  let nextLog = LOG_EVERY;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const zip = new Zip((err, chunk, final) => {
        if (err) return controller.error(err);
        controller.enqueue(chunk);
        if (final) controller.close();
      });
      const room = async () => {
        if ((controller.desiredSize ?? 1) <= 0) await new Promise<void>((r) => (wake = r));
      };
      const written = new Set<string>();
      const add = async (path: string, data: Uint8Array | ReadableStream<Uint8Array>) => {
        if (written.has(path)) return; // top-level extras shared by several exported apps
        written.add(path);
        const file = new ZipDeflate(path, { level: 6 });
        file.mtime = MTIME;
        zip.add(file);
        if (data instanceof Uint8Array) {
          file.push(data, true);
          bytes += data.byteLength;
        } else {
          for await (const part of data) {
            file.push(part, false);
            bytes += part.byteLength;
            await room();
          }
          file.push(new Uint8Array(0), true);
        }
        entries++;
        options.onProgress?.({ phase: "export", entries, bytes, done: false });
        if (bytes >= nextLog) {
          nextLog = bytes + LOG_EVERY;
          apps.logger.info({ phase: "export", entries, bytes, user: user.id }, "remix export progress");
        }
        await room();
      };
      const write = async () => {
        const stores = await opening;
        const stored = (await stores[0]!.getMeta<MixMap>(META.manifest)) ?? {};
        const out = {
          ...stored,
          ...manifest,
          version: REMIX_FORMAT_VERSION,
          apps: Object.fromEntries(names.map((n) => [n, true])),
        };
        await add("manifest.json", Buffer.from(JSON.stringify(out)));
        const records: Record<string, MixMap[]> = {};
        for (const store of stores) records[store.app] = await appRecords(store);
        await add("records.mp", encodeRemixMsgpack(records));
        for (const store of stores) await writeApp(store, add);
        zip.end();
        options.onProgress?.({ phase: "export", entries, bytes, done: true });
        apps.logger.info({ apps: names, user: user.id, entries, bytes }, "remix exported");
      };
      write().catch((err: unknown) => controller.error(err));
    },
    pull() {
      wake?.();
      wake = undefined;
    },
  });
}

/** The app's own records: everything except the app record and libraries, which have their own entries. */
async function appRecords(store: DocumentStore): Promise<MixMap[]> {
  const out: MixMap[] = [];
  for await (const doc of store.allDocuments()) {
    const id = doc._rmx_id as string;
    if (id !== APP_RECORD_ID && !id.startsWith(LIBRARY_TYPE_PREFIX)) out.push(doc);
  }
  return out;
}

async function writeApp(
  store: DocumentStore,
  add: (path: string, data: Uint8Array | ReadableStream<Uint8Array>) => Promise<void>,
): Promise<void> {
  const prefix = `apps/${store.app}/`;
  // An app created here rather than imported has no app record: write a minimal one so the archive imports.
  const record = (await store.get(APP_RECORD_ID)) ?? { _rmx_type: "app", name: store.app };
  const plain: MixMap = {};
  for (const k of Object.keys(record)) if (!SYSTEM_KEYS.includes(k)) plain[k] = record[k];
  await add(`apps/${store.app}.mp`, encodeRemixMsgpack([plain]));
  for (const key of ["resources.json", "runtime.json"]) {
    const value = await store.getMeta<unknown>(key);
    if (value !== undefined) await add(prefix + key, Buffer.from(JSON.stringify(value)));
  }
  for (const file of await store.files.list()) {
    if (file.public) await add(`${prefix}public/${file.name}`, store.blobs.stream(file.ref));
  }
  for await (const doc of store.allDocuments()) {
    const id = doc._rmx_id as string;
    if (id.startsWith(LIBRARY_TYPE_PREFIX) && isRef(doc.dataRef)) {
      await add(
        `${prefix}libraries/${id.slice(LIBRARY_TYPE_PREFIX.length)}`,
        store.blobs.stream(doc.dataRef.value),
      );
    }
  }
  const extras = (await store.getMeta<Record<string, string>>(META.extras)) ?? {};
  for (const [path, ref] of Object.entries(extras)) await add(path, store.blobs.stream(ref));
}
