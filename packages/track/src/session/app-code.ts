import { AppsError, parse } from "@amp/apps";
import { isMixMap, isRef, type MixMap, type MixValue } from "@amp/codec";
import { NO_EXECUTABLE, TrackError } from "../errors.js";
import type { ActingUser, TrackApps } from "../ports.js";

/** `_rmx_id` of the app record an import writes (`apps/<app>.mp`). */
const APP_RECORD_ID = "_rmx_app";

export interface Executable {
  /** The blob's sha256: the content hash the code cache and the pool key on. */
  readonly hash: string;
  read(): Promise<Uint8Array>;
}

/** Turns `@amp/apps` refusals into track errors (an unknown and a hidden app look the same). */
export function appsError(e: unknown): never {
  if (e instanceof AppsError) {
    if (e.code === "forbidden") throw new TrackError("Track-forbidden", e.message);
    if (e.code === "not_found" || e.code === "invalid_name")
      throw new TrackError("Track-noApp", "no such app");
  }
  throw e;
}

/** Parsed once per variant: parsing costs more than the lookup on a session's path. */
const EXECUTABLE_QUERIES = new Map<string, ReturnType<typeof parse> & { limit: number }>();

function executableQuery(variant: string) {
  let query = EXECUTABLE_QUERIES.get(variant);
  if (query === undefined) {
    const text = `_rmx_type == "executable_cross" && variant == ${JSON.stringify(variant)} | { dataRef }`;
    query = { ...parse(text), limit: 1 };
    EXECUTABLE_QUERIES.set(variant, query);
  }
  return query;
}

/**
 * The app's executable, found as the client finds it:
 * `_rmx_type == "executable_cross" && variant == "WASM" | { dataRef }`. Needs `allowed_run`.
 */
export async function findExecutable(
  apps: TrackApps,
  user: ActingUser,
  app: string,
  variant: string,
): Promise<Executable> {
  let store: Store;
  try {
    store = await apps.store(user, app, ["allowed_run", "allowed_agents"]);
  } catch (e) {
    appsError(e);
  }
  const dataRef = await executableRef(store, variant);
  if (dataRef === undefined) throw new TrackError("Track-noExecutable", NO_EXECUTABLE);
  return { hash: dataRef, read: async () => new Uint8Array(await store.blobs.read(dataRef)) };
}

type Store = Awaited<ReturnType<TrackApps["store"]>>;

/** Each store's executable refs by variant, valid while the store's change sequence stays the same. */
const FOUND = new WeakMap<Store, { seq: number; refs: Map<string, string | undefined> }>();

/** The executable's blob ref; the query runs again only after the app's documents changed. */
async function executableRef(store: Store, variant: string): Promise<string | undefined> {
  let found = FOUND.get(store);
  if (found === undefined || found.seq !== store.seq) {
    found = { seq: store.seq, refs: new Map() };
    FOUND.set(store, found);
  }
  if (!found.refs.has(variant)) {
    const [doc] = (await store.query(executableQuery(variant))).documents;
    found.refs.set(variant, isRef(doc?.dataRef) ? doc.dataRef.value : undefined);
  }
  return found.refs.get(variant);
}

/** The imported app record (`apps/<app>.mp`), if the user may run the app and it has one. */
async function appRecord(apps: TrackApps, user: ActingUser, app: string): Promise<MixMap | undefined> {
  try {
    const record = await (await apps.store(user, app, ["allowed_run", "allowed_agents"])).get(APP_RECORD_ID);
    return isMixMap(record) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** The app's `session-timeout` setting (seconds, in the imported app record), if any. */
export async function appSessionTimeoutMs(
  apps: TrackApps,
  user: ActingUser,
  app: string,
): Promise<number | undefined> {
  const record = await appRecord(apps, user, app);
  if (record === undefined || !isMixMap(record.settings)) return undefined;
  const value = record.settings["session-timeout"];
  const seconds = typeof value === "bigint" ? Number(value) : value;
  return typeof seconds === "number" && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** One module of an app, as the Remix editor described it when the app was published. */
export type AppModule = {
  name: string;
  /** `screen`, `settings`, `symbol`, `constants`, `styles`, `annotation`, … */
  type: string;
  isFlow: boolean;
  isDisabled: boolean;
  agents: MixValue[];
  libImports: MixValue[];
};

const MAX_MODULES = 10_000;

/**
 * The app's modules from its record's `derivedData.modInfos` (written by the Remix editor and
 * carried in `.remix` exports); undefined when the record has none (e.g. apps not imported).
 */
export async function appModules(
  apps: TrackApps,
  user: ActingUser,
  app: string,
): Promise<AppModule[] | undefined> {
  const derived = (await appRecord(apps, user, app))?.derivedData;
  const infos = isMixMap(derived) ? derived.modInfos : undefined;
  if (!Array.isArray(infos)) return undefined;
  const modules: AppModule[] = [];
  for (const info of infos.slice(0, MAX_MODULES)) {
    if (!isMixMap(info) || typeof info.name !== "string") continue;
    modules.push({
      name: info.name,
      type: typeof info.type === "string" ? info.type : "",
      isFlow: info.isFlow === true,
      isDisabled: info.isDisabled === true,
      agents: Array.isArray(info.agents) ? info.agents : [],
      libImports: Array.isArray(info.libImports) ? info.libImports : [],
    });
  }
  return modules;
}
